import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import {
  ApprovalForbiddenError,
  ArgumentsChangedError,
  EscalationLimitError,
  EscalationNotFoundError,
  EscalationRejectedError,
  Guarded,
  PolicyBlockedError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  createEngine,
  type EscalationEvent,
} from '../../lib';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';

/**
 * Approvals bind the exact call. Against the real module (embedded engine,
 * memory store): the agent cannot approve itself, a rejection's words reach
 * the caller, a body never runs on arguments other than those decided, an
 * abandoned call is withdrawn, an approval that comes after the caller left
 * becomes a grant for that identical call only, and standing grants are
 * bounded and audited.
 */
const AGENT = 'billing-agent';
const POLICY: PolicyDocument = {
  name: 'approvals',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Small payments are fine',
      violation_reason: 'Payments over 100 need a human',
    },
    { action: 'data.*', on_match: 'BLOCK', reason: 'No data changes' },
    { action: '*', on_match: 'BLOCK', reason: 'Not allowed' },
  ],
};

interface Order {
  amount: number;
  to: string;
}

@Injectable()
class Payments {
  readonly paid: number[] = [];

  @Guarded('payments.initiate')
  async pay(amount: number, to: string): Promise<string> {
    this.paid.push(amount);
    return `paid ${amount} to ${to}`;
  }

  @Guarded('payments.initiate', {
    params: (order: Order) => ({ amount: order.amount, to: order.to }),
  })
  async payOrder(order: Order): Promise<string> {
    this.paid.push(order.amount);
    return `paid ${order.amount}`;
  }
}

async function boot(): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: AGENT,
        policy: POLICY,
        audit: { store: 'memory' },
        escalationTimeout: 5_000,
        sessionHeader: false,
      }),
    ],
    providers: [Payments],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

function nextPending(gateway: ProvenanceGateway): Promise<EscalationEvent> {
  return firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
}

async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('approvals bind the exact call (module, embedded engine)', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let reviewer: ProvenanceReviewer;
  let payments: Payments;

  beforeEach(async () => {
    app = await boot();
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
    payments = app.get(Payments);
  });
  afterEach(async () => {
    await app.close();
  });

  it('four eyes: the agent itself cannot approve its own call; another reviewer can', async () => {
    const pending = nextPending(gateway);
    const call = payments.pay(99_999, 'rec_evil');
    const { escalationId } = await pending;
    const error = await rejectionOf(reviewer.approve(escalationId, { approverId: AGENT }));
    expect(error).toBeInstanceOf(ApprovalForbiddenError);
    expect(error.message).toContain('four eyes');
    expect(payments.paid).toEqual([]);
    expect((await reviewer.pending()).map((r) => r.id)).toEqual([escalationId]);
    await reviewer.approve(escalationId, { approverId: 'cfo@example.com' });
    await expect(call).resolves.toBe('paid 99999 to rec_evil');
    const approved = (await gateway.audit!.list()).filter((e) => e.kind === 'escalation.approved');
    expect(approved.map((e) => e.actorHumanId)).toEqual(['cfo@example.com']);
  });

  it("a rejection's own reason reaches the caller, not only the audit", async () => {
    const pending = nextPending(gateway);
    const call = rejectionOf(payments.pay(900, 'rec_1'));
    const { escalationId } = await pending;
    await reviewer.reject(escalationId, {
      approverId: 'cfo@example.com',
      reason: 'Not this quarter',
    });
    const error = await call;
    expect(error).toBeInstanceOf(EscalationRejectedError);
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect(error.approverReason).toBe('Not this quarter');
    expect(error.result.approverReason).toBe('Not this quarter');
    expect(error.message).toContain('Not this quarter');
  });

  it('an argument object changed while a human looked: the body does not run, and the refusal is audited', async () => {
    const order: Order = { amount: 800, to: 'rec_1' };
    const pending = nextPending(gateway);
    const call = rejectionOf(payments.payOrder(order));
    const { escalationId, parameters } = await pending;
    expect(parameters).toEqual({ amount: 800, to: 'rec_1' });
    order.amount = 999_999;
    await reviewer.approve(escalationId, { approverId: 'cfo@example.com' });
    const error = await call;
    expect(error).toBeInstanceOf(ArgumentsChangedError);
    expect(error.decidedHash).not.toBe(error.currentHash);
    expect(payments.paid).toEqual([]);
    const refused = (await gateway.audit!.list()).filter((e) => e.kind === 'call.refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ decision: 'BLOCK', action: 'payments.initiate' });
    expect(refused[0].parameters).toEqual({ amount: 800, to: 'rec_1' });
  });

  it('a getter that answers 10 when decided and 999 999 afterwards is refused, with no human asked', async () => {
    let reads = 0;
    const order = {
      get amount() {
        reads++;
        return reads === 1 ? 10 : 999_999;
      },
      to: 'rec_2',
    };
    const error = await rejectionOf(payments.payOrder(order));
    expect(error).toBeInstanceOf(ArgumentsChangedError);
    expect(payments.paid).toEqual([]);
    expect((await reviewer.pending()).length).toBe(0);
  });

  it('gateway.guard() checks the arguments the same way', async () => {
    const paid: number[] = [];
    const send = gateway.guard('payments.initiate', {
      params: (order: Order) => ({ amount: order.amount, to: order.to }),
    })(async (order: Order) => {
      paid.push(order.amount);
    });
    const order: Order = { amount: 50, to: 'rec_3' };
    await send(order);
    expect(paid).toEqual([50]);
    const pending = nextPending(gateway);
    const big: Order = { amount: 500, to: 'rec_3' };
    const call = rejectionOf(send(big));
    const { escalationId } = await pending;
    big.to = 'rec_attacker';
    await reviewer.approve(escalationId, { approverId: 'cfo@example.com' });
    expect(await call).toBeInstanceOf(ArgumentsChangedError);
    expect(paid).toEqual([50]);
  });

  it('unsubscribing from a held call withdraws its escalation; approving it afterwards finds nothing', async () => {
    const pending = nextPending(gateway);
    const withdrawn = firstValueFrom(
      gateway.escalations$.pipe(filter((e) => e.type === 'withdrawn')),
    );
    const sub = gateway
      .execute$('payments.initiate', { amount: 700 })
      .subscribe({ error: () => undefined });
    const { escalationId } = await pending;
    sub.unsubscribe();
    expect(await withdrawn).toMatchObject({ escalationId, type: 'withdrawn' });
    expect(
      await rejectionOf(reviewer.approve(escalationId, { approverId: 'cfo@example.com' })),
    ).toBeInstanceOf(EscalationNotFoundError);
  });

  it('a standing grant: matching calls run without a hold up to maxUses, never overriding a BLOCK; revocable; all audited', async () => {
    const grant = await reviewer.grant({
      action: 'payments.initiate',
      conditions: [
        { field: 'to', operator: '==', value: 'rec_abc' },
        { field: 'amount', operator: '<=', value: 1000 },
      ],
      maxUses: 2,
      expiresInMs: 60_000,
      grantedBy: 'cfo@example.com',
      reason: 'quarter-end run',
    });
    expect(grant).toMatchObject({ kind: 'standing', status: 'ACTIVE', uses: 0, maxUses: 2 });
    const first = await gateway.execute('payments.initiate', { amount: 900, to: 'rec_abc' });
    expect(first).toMatchObject({ decision: 'ALLOW', actorHumanId: 'cfo@example.com' });
    expect(first.reason).toContain(grant.id);
    // Not covered: another recipient, or too much, still goes to a human.
    const otherPending = nextPending(gateway);
    const other = gateway
      .execute('payments.initiate', { amount: 900, to: 'rec_xyz' })
      .catch((e) => e);
    const { escalationId } = await otherPending;
    await reviewer.reject(escalationId, { approverId: 'cfo@example.com' });
    expect(await other).toBeInstanceOf(EscalationRejectedError);
    // A BLOCK stays a BLOCK whatever is granted.
    await reviewer.grant({ action: 'data.*', grantedBy: 'cfo@example.com' });
    expect(await rejectionOf(gateway.execute('data.delete', {}))).toBeInstanceOf(
      PolicyBlockedError,
    );

    await gateway.execute('payments.initiate', { amount: 10, to: 'rec_abc' }); // ALLOW by policy: no use
    await gateway.execute('payments.initiate', { amount: 500, to: 'rec_abc' }); // second use
    expect((await reviewer.grants()).find((g) => g.id === grant.id)).toBeUndefined(); // used up
    const thirdPending = nextPending(gateway);
    const third = gateway
      .execute('payments.initiate', { amount: 500, to: 'rec_abc' })
      .catch((e) => e);
    await reviewer.reject((await thirdPending).escalationId, { approverId: 'cfo@example.com' });
    expect(await third).toBeInstanceOf(EscalationRejectedError);

    const another = await reviewer.grant({
      action: 'payments.*',
      maxUses: 5,
      grantedBy: 'cfo@example.com',
    });
    await reviewer.revokeGrant(another.id, { revokedBy: 'cfo@example.com' });
    const afterRevoke = nextPending(gateway);
    const revokedCall = gateway
      .execute('payments.initiate', { amount: 700, to: 'rec_abc' })
      .catch((e) => e);
    await reviewer.reject((await afterRevoke).escalationId, { approverId: 'cfo@example.com' });
    expect(await revokedCall).toBeInstanceOf(EscalationRejectedError);

    const kinds = (await gateway.audit!.list()).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'grant.created')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'grant.used')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'grant.revoked')).toHaveLength(1);
    expect(await gateway.audit!.verify()).toMatchObject({ valid: true });
  });

  it('a grant for an agent cannot be given by that agent, and a bad grant names its field', async () => {
    await expect(
      reviewer.grant({ action: 'payments.initiate', agentId: AGENT, grantedBy: AGENT }),
    ).rejects.toThrow(/four eyes/);
    await expect(
      reviewer.grant({ action: 'payments.initiate', maxUses: 0, grantedBy: 'cfo@example.com' }),
    ).rejects.toThrow(/maxUses/);
    await expect(
      reviewer.grant({
        action: 'payments.initiate',
        conditions: [{ field: 'amount', operator: 'gte', value: 1 }],
        grantedBy: 'cfo@example.com',
      }),
    ).rejects.toThrow(/operator/);
  });
});

describe('an approval after the caller left becomes a single-use grant (engine API)', () => {
  it('the identical call retried runs once without a new hold; a different call does not', async () => {
    const { engine, audit } = createEngine({ policy: POLICY, audit: { store: 'memory' } });
    const call = {
      sessionId: 'sess_1',
      agentId: AGENT,
      action: 'payments.initiate',
      parameters: { amount: 800, to: 'rec_1' },
      decision: 'BLOCK' as const,
    };
    let escalationId = '';
    const first = engine.execute(call, { onEscalated: (t) => (escalationId = t.escalationId) });
    while (escalationId === '') await new Promise((resolve) => setTimeout(resolve, 5));
    // The caller's connection closed without withdrawing (it timed out, its process died).
    expect(await engine.detach(escalationId)).toBe(true);
    await engine.decide(escalationId, 'APPROVE', { approverId: 'cfo@example.com' });
    const firstAnswer = await first;
    expect(firstAnswer.reason).toMatch(/single-use grant/);

    const retried = await engine.execute({ ...call, parameters: { to: 'rec_1', amount: 800 } });
    expect(retried).toMatchObject({
      decision: 'ALLOW',
      escalationId,
      actorHumanId: 'cfo@example.com',
    });
    // Used: the next identical call goes to a human again, and so does a different one.
    let again = '';
    const third = engine.execute(call, { onEscalated: (t) => (again = t.escalationId) });
    while (again === '') await new Promise((resolve) => setTimeout(resolve, 5));
    expect(again).not.toBe(escalationId);
    await engine.decide(again, 'REJECT', { approverId: 'cfo@example.com' });
    expect((await third).decision).toBe('BLOCK');

    const kinds = (await audit.list()).map((e) => e.kind);
    expect(kinds).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
      'grant.used',
      'escalation.pending',
      'escalation.rejected',
    ]);
    expect(await audit.verify()).toMatchObject({ valid: true });
    await engine.close();
  });
});

describe('a cap on held calls (embedded)', () => {
  it('maxPendingEscalations: one more held call is refused with EscalationLimitError, never allowed', async () => {
    const gateway = new ProvenanceGateway({
      agentId: AGENT,
      policy: POLICY,
      audit: { store: 'memory' },
      maxPendingEscalations: 2,
    });
    const held = [
      gateway.execute('payments.initiate', { amount: 500 }).catch((e) => e),
      gateway.execute('payments.initiate', { amount: 600 }).catch((e) => e),
    ];
    while (gateway.pendingEscalationEvents().length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const third = await rejectionOf(gateway.execute('payments.initiate', { amount: 700 }));
    expect(third).toBeInstanceOf(EscalationLimitError);
    expect(third.limit).toBe(2);
    expect(third.message).toContain('maxPendingEscalations');
    // Small calls the policy allows are not held, so the cap does not touch them.
    await expect(gateway.execute('payments.initiate', { amount: 5 })).resolves.toMatchObject({
      decision: 'ALLOW',
    });
    await gateway.close();
    await Promise.all(held);
  });
});
