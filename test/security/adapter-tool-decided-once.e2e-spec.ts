import 'reflect-metadata';
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { generateText, stepCountIs, tool } from 'ai';
import { filter, firstValueFrom } from 'rxjs';
import { z } from 'zod';
import {
  ExecutionResult,
  Guarded,
  PolicyBlockedError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type EscalationRecord,
  type PolicyDocument,
} from '../../lib';
import { provenanceTools, toolDecisionOf } from '../../lib/adapters/ai';
import { decideToolCall, runAllowedTool } from '../../lib/adapters/tool-gate';
import { ScriptedModel } from '../e2e/adapters/ai/scripted-model';

/**
 * An AI SDK tool gated by provenanceTools whose body calls a @Guarded method:
 * the same action on the same arguments, in the same session, is decided
 * once (one audit decision, one hold); anything else is decided again.
 */
const policy: PolicyDocument = {
  name: 'decided-once',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'payments over 500 need a human',
    },
    {
      action: 'payments.refund',
      conditions: [{ field: 'amount', operator: '<=', value: 10 }],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
      reason: 'refunds over 10 are not for agents',
    },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

type Pay = { amount: number; currency: string; recipient: string };

@Injectable()
class PaymentsService {
  readonly paid: Pay[] = [];
  readonly refunded: Pay[] = [];

  @Guarded('payments.initiate')
  async initiate(amount: number, currency: string, recipient: string) {
    this.paid.push({ amount, currency, recipient });
    return { paid: amount };
  }

  @Guarded('payments.refund')
  async refund(amount: number, currency: string, recipient: string) {
    this.refunded.push({ amount, currency, recipient });
    return { refunded: amount };
  }
}

/** What the tool's body does with its (ALLOWed) input. */
type Body = (input: Pay, payments: PaymentsService, gateway: ProvenanceGateway) => unknown;

@Injectable()
class Agent {
  body: Body = (input, payments) =>
    payments.initiate(input.amount, input.currency, input.recipient);
  bodyRuns = 0;
  decisions: (ExecutionResult | undefined)[] = [];

  constructor(
    @Inject(ProvenanceGateway) readonly gateway: ProvenanceGateway,
    @Inject(PaymentsService) readonly payments: PaymentsService,
  ) {}

  tools() {
    return provenanceTools(
      this.gateway,
      {
        payments_initiate: tool({
          description: 'Pay a recipient',
          inputSchema: z.object({
            amount: z.number(),
            currency: z.string(),
            recipient: z.string(),
          }),
          execute: async (input, options) => {
            this.bodyRuns++;
            this.decisions.push(toolDecisionOf(options));
            return this.body(input, this.payments, this.gateway);
          },
        }),
      },
      { actions: { payments_initiate: 'payments.initiate' } },
    );
  }
}

describe('security: an adapter tool whose body calls a @Guarded method is decided once', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let reviewer: ProvenanceReviewer;
  let agent: Agent;
  let payments: PaymentsService;

  beforeEach(async () => {
    @Module({
      imports: [
        ProvenanceModule.forRoot({
          agentId: 'agent-decided-once',
          policy,
          audit: { store: 'memory' },
          escalationTimeout: 10_000,
        }),
      ],
      providers: [PaymentsService, Agent],
    })
    class DecidedOnceModule {}
    app = await NestFactory.createApplicationContext(DecidedOnceModule, {
      logger: false,
      abortOnError: false,
    });
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
    agent = app.get(Agent);
    payments = app.get(PaymentsService);
  });
  afterEach(() => app.close());

  async function runTool(input: Pay) {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'payments_initiate', input }] },
      { text: 'Done.' },
    ]);
    const result = await gateway.runInSession('sess_once', () =>
      generateText({
        model: model.model,
        tools: agent.tools(),
        stopWhen: stepCountIs(4),
        prompt: 'Pay.',
      }),
    );
    const [callId] = model.callIds;
    return { result, output: model.toolOutputsAt(1).get(callId) };
  }

  async function decisions() {
    return (await gateway.audit!.list({})).filter((event) => event.kind === 'decision');
  }

  /** Every audit event, as [kind, action, decision, amount]. */
  async function trail() {
    return (await gateway.audit!.list({})).map((e) => [
      e.kind,
      e.action,
      e.decision,
      (e.parameters as Pay | null)?.amount,
    ]);
  }

  it('the same action on the same input: one decision in the audit, the method runs once', async () => {
    const input = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
    const { output } = await runTool(input);

    expect(output).toEqual({ type: 'json', value: { paid: 50 } });
    expect(agent.bodyRuns).toBe(1);
    expect(payments.paid).toEqual([input]);
    const events = await decisions();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'payments.initiate',
      decision: 'ALLOW',
      sessionId: 'sess_once',
    });
  });

  it('the guarded call is answered with the ALLOW the tool got (same eventId), used once', async () => {
    const seen: ExecutionResult[] = [];
    agent.body = async (input, _payments, gw) => {
      seen.push(await gw.execute('payments.initiate', { ...input }));
      // A second call on the same input is a second execution: decided again.
      seen.push(await gw.execute('payments.initiate', { ...input }));
      return 'ok';
    };
    await runTool({ amount: 20, currency: 'GBP', recipient: 'rec_bob' });

    const toolDecision = agent.decisions[0];
    expect(toolDecision?.eventId).toEqual(expect.any(String));
    expect(seen[0].eventId).toBe(toolDecision?.eventId);
    expect(seen[1].allowed).toBe(true);
    expect(seen[1].eventId).not.toBe(toolDecision?.eventId);
    const events = await decisions();
    expect(events.map((e) => e.id)).toEqual([toolDecision?.eventId, seen[1].eventId]);
  });

  it('an escalation is held once, approved once, and the method runs once', async () => {
    const input = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };
    let approvals = 0;
    const approval = firstValueFrom(
      reviewer.pending$.pipe(filter((list: EscalationRecord[]) => list.length > 0)),
    ).then(async (list) => {
      approvals++;
      expect(list).toHaveLength(1);
      return reviewer.approve(list[0].id, { approverId: 'alice@example.com', reason: 'ok' });
    });
    const { output } = await runTool(input);
    await approval;

    expect(output).toEqual({ type: 'json', value: { paid: 2500 } });
    expect(approvals).toBe(1);
    expect(payments.paid).toEqual([input]);
    expect(await reviewer.pending()).toEqual([]);
    // One hold, one human decision; no second decision for the guarded method.
    expect(await trail()).toEqual([
      ['escalation.pending', 'payments.initiate', 'ESCALATE', 2500],
      ['escalation.approved', 'payments.initiate', 'ALLOW', 2500],
    ]);
    const [, approved] = await gateway.audit!.list({});
    expect(approved.actorHumanId).toBe('alice@example.com');
    expect(agent.decisions[0]?.eventId).toBe(approved.id);
  });

  it('different arguments (amount changed) are decided again, per policy: escalated, not run', async () => {
    const input = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
    agent.body = (i, p) => p.initiate(5000, i.currency, i.recipient);
    const rejected = firstValueFrom(
      reviewer.pending$.pipe(filter((list: EscalationRecord[]) => list.length > 0)),
    ).then((list) => {
      expect(list[0].parameters).toEqual({ ...input, amount: 5000 });
      return reviewer.reject(list[0].id, { approverId: 'alice@example.com', reason: 'no' });
    });
    const { output } = await runTool(input);
    await rejected;

    expect(agent.bodyRuns).toBe(1);
    expect(payments.paid).toEqual([]);
    expect(output?.type).toBe('error-text');
    expect(await trail()).toEqual([
      ['decision', 'payments.initiate', 'ALLOW', 50],
      ['escalation.pending', 'payments.initiate', 'ESCALATE', 5000],
      ['escalation.rejected', 'payments.initiate', 'BLOCK', 5000],
    ]);
  });

  it('another action on the same input is decided on its own (and BLOCKed by policy)', async () => {
    const input = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
    let refusal: unknown;
    agent.body = (i, p) =>
      p.refund(i.amount, i.currency, i.recipient).catch((error: unknown) => {
        refusal = error;
        return 'refund refused';
      });
    await runTool(input);

    expect(refusal).toBeInstanceOf(PolicyBlockedError);
    expect(payments.refunded).toEqual([]);
    const events = await decisions();
    expect(events.map((e) => [e.action, e.decision])).toEqual([
      ['payments.initiate', 'ALLOW'],
      ['payments.refund', 'BLOCK'],
    ]);
  });

  it('a call the body scheduled with setTimeout, made after the tool returned, is decided normally', async () => {
    const input = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
    let later!: Promise<ExecutionResult>;
    let scheduled!: () => void;
    const fired = new Promise<void>((resolve) => (scheduled = resolve));
    agent.body = (i, _p, gw) => {
      setTimeout(() => {
        later = gw.execute('payments.initiate', { ...i });
        scheduled();
      }, 0);
      return 'scheduled';
    };
    const { output } = await runTool(input);
    expect(output).toEqual({ type: 'text', value: 'scheduled' });
    await fired;
    const result = await later;

    expect(result.allowed).toBe(true);
    expect(result.eventId).not.toBe(agent.decisions[0]?.eventId);
    const events = await decisions();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ id: result.eventId, sessionId: 'sess_once' });
  });

  it('a call the body scheduled for later, with a guarded method, runs only after its own decision', async () => {
    const input = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };
    // Approve the tool's hold; the scheduled call must be held again, and is rejected.
    const holds: string[] = [];
    const sub = reviewer.pending$.subscribe((list: EscalationRecord[]) => {
      for (const record of list) {
        if (holds.includes(record.id)) continue;
        holds.push(record.id);
        const answer =
          holds.length === 1
            ? reviewer.approve(record.id, { approverId: 'alice@example.com' })
            : reviewer.reject(record.id, { approverId: 'alice@example.com', reason: 'no' });
        void answer;
      }
    });
    let later!: Promise<unknown>;
    let scheduled!: () => void;
    const fired = new Promise<void>((resolve) => (scheduled = resolve));
    agent.body = (i, p) => {
      setTimeout(() => {
        later = p.initiate(i.amount, i.currency, i.recipient);
        scheduled();
      }, 0);
      return 'scheduled';
    };
    try {
      await runTool(input);
      await fired;
      await expect(later).rejects.toBeInstanceOf(PolicyBlockedError);
    } finally {
      sub.unsubscribe();
    }
    expect(holds).toHaveLength(2);
    expect(payments.paid).toEqual([]);
    expect(await trail()).toEqual([
      ['escalation.pending', 'payments.initiate', 'ESCALATE', 2500],
      ['escalation.approved', 'payments.initiate', 'ALLOW', 2500],
      ['escalation.pending', 'payments.initiate', 'ESCALATE', 2500],
      ['escalation.rejected', 'payments.initiate', 'BLOCK', 2500],
    ]);
  });

  it("an ALLOW from execute() (not an adapter's call) carries nothing into a tool body: decided again", async () => {
    const input = { amount: 40, currency: 'GBP', recipient: 'rec_bob' };
    const plain = await gateway.runInSession('sess_once', () =>
      gateway.execute('payments.initiate', { ...input }),
    );
    expect(plain.allowed).toBe(true);
    const inner = await gateway.runInSession('sess_once', () =>
      runAllowedTool(plain, () => gateway.execute('payments.initiate', { ...input })),
    );

    expect(inner.allowed).toBe(true);
    expect(inner.eventId).not.toBe(plain.eventId);
    expect((await decisions()).map((e) => e.id)).toEqual([plain.eventId, inner.eventId]);
  });

  it("an adapter's ALLOW is taken by the first body run under it: a second body run with it is decided again", async () => {
    const input = { amount: 30, currency: 'GBP', recipient: 'rec_bob' };
    const verdict = await gateway.runInSession('sess_once', () =>
      decideToolCall(
        gateway,
        { toolName: 'payments_initiate', input },
        {
          actions: { payments_initiate: 'payments.initiate' },
        },
      ),
    );
    if (!verdict.allowed) throw new Error('the policy ALLOWs a payment of 30');
    const body = () => gateway.execute('payments.initiate', { ...input });
    const first = await gateway.runInSession('sess_once', () =>
      runAllowedTool(verdict.result, body),
    );
    const second = await gateway.runInSession('sess_once', () =>
      runAllowedTool(verdict.result, body),
    );

    expect(first.eventId).toBe(verdict.result.eventId);
    expect(second.allowed).toBe(true);
    expect(second.eventId).not.toBe(verdict.result.eventId);
    expect((await decisions()).map((e) => e.id)).toEqual([verdict.result.eventId, second.eventId]);
  });
});
