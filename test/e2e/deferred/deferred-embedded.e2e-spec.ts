import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ProvenanceConfigError,
  ProvenanceError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
} from '../../../lib';
import {
  APPROVER,
  DEFERRED_POLICY,
  approvedDeferredCall,
  decidedAsExecute,
  expectDeferred,
  rejectedDeferredCall,
  type DeferredSides,
} from './deferred.fixture';

async function boot(): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-deferred',
        policy: DEFERRED_POLICY,
        audit: { store: 'memory' },
        escalationTimeout: 20_000,
      }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('executeDeferred with the embedded gateway (ProvenanceModule.forRoot)', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let sides: DeferredSides;

  beforeEach(async () => {
    app = await boot();
    gateway = app.get(ProvenanceGateway);
    const reviewer = app.get(ProvenanceReviewer);
    sides = {
      agent: gateway,
      reviewer,
      pendingIds: async () => (await reviewer.pending()).map((record) => record.id),
    };
  });

  afterEach(async () => {
    await app.close();
  });

  it('ESCALATE resolves at once; an approval allows the identical execute() once, and the audit says so', async () => {
    const escalationId = await approvedDeferredCall(sides);
    const kinds = (await gateway.audit.list()).map((event) => event.kind);
    // The approval and the grant it became, in either order, then the retries.
    expect([...kinds.slice(1, 3)].sort()).toEqual(['escalation.approved', 'grant.created']);
    expect([kinds[0], ...kinds.slice(3)]).toEqual([
      'escalation.pending',
      'escalation.pending', // other parameters
      'grant.used',
      'escalation.pending', // the grant was used up
    ]);
    const events = await gateway.audit.list();
    const approved = events.find((event) => event.kind === 'escalation.approved');
    expect([approved?.escalationId, approved?.actorHumanId]).toEqual([escalationId, APPROVER]);
    expect((await gateway.audit.verify()).valid).toBe(true);
  });

  it('a rejection leaves no grant', async () => {
    await rejectedDeferredCall(sides);
  });

  it('ALLOW and BLOCK as execute(); only decisions count in the session', async () => {
    await decidedAsExecute(gateway);
    const session = await gateway.runInSession(undefined, async (current) => {
      await gateway.executeDeferred('payments.initiate', { amount: 40 });
      expectDeferred(await gateway.executeDeferred('payments.initiate', { amount: 900 }));
      return current;
    });
    // The deferred ESCALATE is not a decision: neither allowed nor blocked, not recorded.
    expect([session.results.length, session.allowedCount, session.blockedCount]).toEqual([1, 1, 0]);
  });

  it('the agent cannot approve its own deferred call', async () => {
    const id = expectDeferred(await gateway.executeDeferred('payments.initiate', { amount: 700 }));
    await expect(
      sides.reviewer.approve(id, { approverId: 'agent-deferred', reason: 'me' }),
    ).rejects.toMatchObject({ name: 'ApprovalForbiddenError' });
  });

  it('refuses idempotencyKey naming the option, and a closed gateway as execute() does', async () => {
    const refused = await gateway
      .executeDeferred('payments.initiate', { amount: 5 }, {
        idempotencyKey: 'k-1',
      } as never)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProvenanceConfigError);
    expect((refused as ProvenanceConfigError).option).toBe('idempotencyKey');
    expect((refused as Error).message).toContain('idempotencyKey');
    expect(await gateway.audit.list()).toEqual([]);

    await gateway.close();
    const viaDeferred = await gateway
      .executeDeferred('payments.initiate', { amount: 5 })
      .catch((e: unknown) => e);
    const viaExecute = await gateway
      .execute('payments.initiate', { amount: 5 })
      .catch((e: unknown) => e);
    expect(viaDeferred).toBeInstanceOf(ProvenanceError);
    expect((viaDeferred as Error).message).toBe((viaExecute as Error).message);
  });
});
