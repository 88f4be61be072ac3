import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { firstValueFrom, lastValueFrom, toArray, filter } from 'rxjs';
import {
  EscalationNotFoundError,
  EscalationRejectedError,
  EscalationTimeoutError,
  PolicyBlockedError,
  PolicyValidationError,
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceModule,
  type EscalationEvent,
  type ExecutionResult,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../lib';

const policy: PolicyDocument = {
  name: 'e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'large payments need a human',
    },
    { action: 'email.*', on_match: 'ALLOW' },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

async function boot(
  options: Partial<ProvenanceModuleOptions> = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-e2e',
        policy,
        audit: { store: 'memory' },
        escalationTimeout: 5_000,
        ...options,
      }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('ProvenanceModule with the embedded gateway', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;

  beforeEach(async () => {
    app = await boot();
    gateway = app.get(ProvenanceGateway);
  });
  afterEach(() => app.close());

  it('allows a call the policy allows and records it in the audit log', async () => {
    const result = await gateway.execute('payments.initiate', { amount: 50, currency: 'GBP' });
    expect(result.allowed).toBe(true);
    expect(result.reason).toBe('large payments need a human');
    expect(result.eventId).toEqual(expect.any(String));
    const events = await gateway.audit!.list({});
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: result.eventId,
      action: 'payments.initiate',
      decision: 'ALLOW',
      agentId: 'agent-e2e',
      sessionId: result.sessionId,
      parameters: { amount: 50, currency: 'GBP' },
    });
  });

  it('raises PolicyBlockedError with the rule reason and the audit event id', async () => {
    const error: PolicyBlockedError = await gateway.execute('data.delete', { table: 'users' }).then(
      () => {
        throw new Error('should have been blocked');
      },
      (e) => e,
    );
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect(error.reason).toBe('not on the allow list');
    expect(error.action).toBe('data.delete');
    const [event] = await gateway.audit!.list({ decision: 'BLOCK' });
    expect(event.id).toBe(error.eventId);
  });

  it('holds an escalation until a human approves it, announcing it first', async () => {
    const events: EscalationEvent[] = [];
    const sub = gateway.escalations$.subscribe((e) => events.push(e));
    const seen: ExecutionResult[] = [];
    const done = lastValueFrom(
      gateway.execute$('payments.initiate', { amount: 800, currency: 'GBP' }).pipe(toArray()),
    );
    const { escalationId } = await waitForPending(gateway);
    await gateway.gatewayTransport.decide(escalationId, 'APPROVE', {
      approverId: 'alice',
      reason: 'ok by CFO',
    });
    seen.push(...(await done));
    sub.unsubscribe();

    expect(seen.map((r) => r.decision)).toEqual(['ESCALATE', 'ALLOW']);
    expect(seen[0].escalationId).toBe(escalationId);
    const final = seen[1];
    expect(final.actorHumanId).toBe('alice');
    expect(final.escalationId).toBe(escalationId);
    expect(final.reason).toBe('Escalation APPROVED by alice');
    expect(events.map((e) => e.type)).toEqual(['pending', 'approved']);
    expect(events[1]).toMatchObject({
      escalationId,
      approverId: 'alice',
      action: 'payments.initiate',
    });
    const audit = await gateway.audit!.list({ escalationId });
    expect(audit.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.approved']);
    expect(audit[1]).toMatchObject({
      actorHumanId: 'alice',
      approverReason: 'ok by CFO',
      decision: 'ALLOW',
    });
  });

  it('raises EscalationRejectedError (a PolicyBlockedError) when the human rejects', async () => {
    const call = gateway.execute('payments.initiate', { amount: 900 });
    const pending = await waitForPending(gateway);
    await gateway.gatewayTransport.decide(pending.escalationId, 'REJECT', { approverId: 'bob' });
    const error = await call.then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(EscalationRejectedError);
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect(error.actorHumanId).toBe('bob');
    expect(error.escalationId).toBe(pending.escalationId);
  });

  it('keeps the audit chain valid across everything above', async () => {
    await gateway.execute('email.send', { to: 'a@b.c' });
    await gateway.execute('data.delete', {}).catch(() => undefined);
    const verification = await gateway.audit!.verify();
    expect(verification.valid).toBe(true);
    expect(verification.eventsChecked).toBe(2);
  });

  it('counts blocked calls in a session handle even though they raise', async () => {
    const sess = gateway.session('sess_counts');
    await sess.execute('email.send', { to: 'x@y.z' });
    await expect(sess.execute('data.delete', {})).rejects.toBeInstanceOf(PolicyBlockedError);
    expect([sess.allowedCount, sess.blockedCount, sess.results.length]).toEqual([1, 1, 2]);
    const events = await gateway.audit!.list({ sessionId: 'sess_counts' });
    expect(events.map((e) => e.decision)).toEqual(['ALLOW', 'BLOCK']);
  });
});

describe('escalation expiry and shutdown', () => {
  it('raises EscalationTimeoutError when nobody decides in time', async () => {
    const app = await boot({ escalationTimeout: 150 });
    const gateway = app.get(ProvenanceGateway);
    const error = await gateway.execute('payments.initiate', { amount: 1000 }).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(EscalationTimeoutError);
    expect(error.escalationId).toEqual(expect.any(String));
    const events = await gateway.audit!.list({ escalationId: error.escalationId });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
    await app.close();
  });

  it('ends held calls on shutdown as blocked, and completes escalations$', async () => {
    const app = await boot();
    const gateway = app.get(ProvenanceGateway);
    let completed = false;
    gateway.escalations$.subscribe({ complete: () => (completed = true) });
    const call = gateway.execute('payments.initiate', { amount: 1000 }).then(
      () => 'allowed',
      (e) => e,
    );
    await waitForPending(gateway);
    await app.close();
    const outcome = await call;
    expect(outcome).not.toBe('allowed');
    expect(outcome).toBeInstanceOf(Error);
    expect(completed).toBe(true);
  });
});

describe('escalations$ follows each hold to its end', () => {
  it('withdraws the escalation of a caller that stopped waiting: no one can approve a call that will never run', async () => {
    const app = await boot();
    const gateway = app.get(ProvenanceGateway);
    const events: EscalationEvent[] = [];
    gateway.escalations$.subscribe((e) => events.push(e));
    const sub = gateway
      .execute$('payments.initiate', { amount: 700 })
      .subscribe({ error: () => undefined });
    const { escalationId } = await waitForPending(gateway);
    sub.unsubscribe();
    await expect(
      gateway.gatewayTransport.decide(escalationId, 'APPROVE', { approverId: 'carol' }),
    ).rejects.toBeInstanceOf(EscalationNotFoundError);
    expect(events.map((e) => [e.type, e.escalationId])).toEqual([
      ['pending', escalationId],
      ['withdrawn', escalationId],
    ]);
    expect(events[1].approverId).toBeNull();
    expect(gateway.pendingEscalationEvents()).toEqual([]);
    await eventuallyTrue(async () =>
      (await gateway.audit!.list()).some((e) => e.kind === 'escalation.withdrawn'),
    );
    const withdrawn = (await gateway.audit!.list()).find((e) => e.kind === 'escalation.withdrawn');
    expect(withdrawn).toMatchObject({ decision: 'BLOCK', escalationId, actorHumanId: null });
    await app.close();
  });

  it('emits the expiry of held calls on shutdown before completing', async () => {
    const app = await boot();
    const gateway = app.get(ProvenanceGateway);
    const seen: string[] = [];
    gateway.escalations$.subscribe({
      next: (e) => seen.push(`${e.type}:${e.sessionId}`),
      complete: () => seen.push('complete'),
    });
    const call = gateway
      .execute('payments.initiate', { amount: 700 }, { sessionId: 'sess_shutdown' })
      .catch((e) => e);
    await waitForPending(gateway);
    await app.close();
    expect(await call).toBeInstanceOf(EscalationTimeoutError);
    expect(seen).toEqual(['pending:sess_shutdown', 'expired:sess_shutdown', 'complete']);
  });
});

describe('the file audit store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'provenance-e2e-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes JSON lines that survive a restart and still verify', async () => {
    const path = join(dir, 'audit.jsonl');
    let app = await boot({ audit: { store: 'file', path } });
    await app.get(ProvenanceGateway).execute('email.send', { to: 'a@b.c' });
    await app.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ action: 'email.send', decision: 'ALLOW' });

    app = await boot({ audit: { store: 'file', path } });
    const gateway = app.get(ProvenanceGateway);
    await gateway.execute('email.send', { to: 'd@e.f' });
    const verification = await gateway.audit!.verify();
    expect([verification.valid, verification.eventsChecked]).toEqual([true, 2]);
    await app.close();
  });
});

describe('start-up errors', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    delete process.env.PROVENANCE_GATEWAY_URL;
    delete process.env.PROVENANCE_POLICY;
    delete process.env.PROVENANCE_API_KEY;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('refuses to start with neither a gateway URL nor a policy, naming both', async () => {
    const error = await boot({ policy: undefined }).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.message).toMatch(/gatewayUrl.*policy/s);
  });

  it('refuses an invalid policy naming the rule and field', async () => {
    const error = await boot({
      policy: { name: 'bad', rules: [{ action: 'x', on_match: 'MAYBE' as never }] },
    }).then(
      () => null,
      (e) => e,
    );
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error.ruleIndex).toBe(0);
    expect(error.message).toContain('on_match');
  });

  it('takes options from forRootAsync with injected dependencies', async () => {
    const CONFIG = 'CONFIG';
    @Module({
      providers: [{ provide: CONFIG, useValue: { agent: 'async-agent' } }],
      exports: [CONFIG],
    })
    class ConfigModule {}
    @Module({
      imports: [
        ProvenanceModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { agent: string }) => ({
            agentId: config.agent,
            policy,
            audit: { store: 'memory' as const },
          }),
        }),
      ],
    })
    class AsyncApp {}
    const app = await NestFactory.createApplicationContext(AsyncApp, {
      logger: false,
      abortOnError: false,
    });
    const result = await app.get(ProvenanceGateway).execute('email.send', {});
    expect(result.allowed).toBe(true);
    expect(app.get(ProvenanceGateway).agentId).toBe('async-agent');
    await app.close();
  });
});

function waitForPending(gateway: ProvenanceGateway): Promise<EscalationEvent> {
  const known = gateway.pendingEscalationEvents();
  if (known.length > 0) return Promise.resolve(known[0]);
  return firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
}

async function eventuallyTrue(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
