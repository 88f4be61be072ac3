import type { INestApplicationContext } from '@nestjs/common';
import { run, ToolCallError } from '@openai/agents';
import {
  EscalationNotFoundError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceReviewer,
} from '../../../../lib';
import { guardAgentTool, guardAgentTools } from '../../../../lib/adapters/openai-agents';
import {
  bootAgentApp,
  CONTEXT_SECRET,
  INSTRUCTIONS_MARKER,
  nextPending,
  PaymentsAgent,
} from './agent-app.fixture';
import { assistantMessage, functionCall, toolOutputsIn } from './scripted-model';

const SMALL = '{"amount":50,"currency":"GBP"}';
const BIG = '{"amount":800,"currency":"GBP"}';
const DELETE = '{"table":"users"}';

describe('guardAgentTools: a real @openai/agents run loop in a Nest app (held approvals)', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let reviewer: ProvenanceReviewer;
  let payments: PaymentsAgent;

  beforeEach(async () => {
    app = await bootAgentApp();
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
    payments = app.get(PaymentsAgent);
  });
  afterEach(() => app.close());

  it('runs a small payment; the model reads its output; the audit holds exactly the input', async () => {
    const model = payments.model([
      [functionCall('call_small_1', 'payments_initiate', SMALL)],
      [assistantMessage('paid')],
    ]);
    const result = await gateway.runInSession('sess-small', () =>
      run(payments.agent(model), 'Pay 50 GBP to Bob', { context: { secret: CONTEXT_SECRET } }),
    );

    expect(result.finalOutput).toBe('paid');
    expect(payments.runs).toEqual([
      { tool: 'payments_initiate', input: { amount: 50, currency: 'GBP' }, approvedBy: null },
    ]);
    expect(model.requests).toHaveLength(2);
    const read = toolOutputsIn(model.requests[1]).get('call_small_1');
    expect(JSON.parse(read!)).toEqual({ paid: 50, currency: 'GBP', approvedBy: null });

    const events = await gateway.audit!.list({});
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'decision',
      decision: 'ALLOW',
      action: 'payments.initiate',
      sessionId: 'sess-small',
      agentId: 'agent-openai',
    });
    // Byte for byte the arguments the model sent (keys already in canonical order).
    expect(JSON.stringify(events[0].parameters)).toBe(SMALL);
    // Nothing of the run: not its context, instructions, messages, details or call id.
    const recorded = JSON.stringify(events);
    for (const absent of [CONTEXT_SECRET, INSTRUCTIONS_MARKER, 'Pay 50 GBP', 'call_small_1']) {
      expect(recorded).not.toContain(absent);
    }
  });

  it('keeps what the model sees of the tool: name, description, parameters', async () => {
    const [original] = payments.tools();
    const [guarded] = guardAgentTools(gateway, [original]);
    expect(guarded).not.toBe(original);
    expect(guarded.invoke).not.toBe(original.invoke);
    for (const key of ['type', 'name', 'description', 'parameters', 'strict'] as const) {
      expect(guarded[key]).toEqual(original[key]);
    }
    const model = payments.model([[assistantMessage('nothing to do')]]);
    await run(payments.agent(model), 'hello');
    expect(model.requests[0].tools.map((t) => t.name)).toEqual([
      'payments_initiate',
      'data_delete',
    ]);
  });

  it('holds a big payment until the reviewer approves it from elsewhere; it runs with the approver', async () => {
    const model = payments.model([
      [functionCall('call_big_1', 'payments_initiate', BIG)],
      [assistantMessage('paid after approval')],
    ]);
    // The reviewer's side: another async context, watching the pushed pending list.
    const reviewed = nextPending(reviewer, 'payments.initiate').then(async (record) => {
      const ranBeforeApproval = payments.runs.length;
      await reviewer.approve(record.id, { approverId: 'alice', reason: 'ok by CFO' });
      return { record, ranBeforeApproval };
    });
    const result = await gateway.runInSession('sess-big', () =>
      run(payments.agent(model), 'Pay 800 GBP'),
    );
    const { record, ranBeforeApproval } = await reviewed;

    expect(ranBeforeApproval).toBe(0);
    expect(record.parameters).toEqual({ amount: 800, currency: 'GBP' });
    expect(result.finalOutput).toBe('paid after approval');
    expect(payments.runs).toEqual([
      { tool: 'payments_initiate', input: { amount: 800, currency: 'GBP' }, approvedBy: 'alice' },
    ]);
    const read = JSON.parse(toolOutputsIn(model.requests[1]).get('call_big_1')!);
    expect(read).toEqual({ paid: 800, currency: 'GBP', approvedBy: 'alice' });

    const events = await gateway.audit!.list({ escalationId: record.id });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.approved']);
    expect(events[1]).toMatchObject({ actorHumanId: 'alice', approverReason: 'ok by CFO' });
    for (const event of events) expect(JSON.stringify(event.parameters)).toBe(BIG);
  });

  it('refuses a data deletion: the tool never runs and the model reads the reason next', async () => {
    const model = payments.model([
      [functionCall('call_del_1', 'data_delete', DELETE)],
      (request) => {
        const refusal = JSON.parse(toolOutputsIn(request).get('call_del_1')!);
        return [assistantMessage(`I could not: ${refusal.reason}`)];
      },
    ]);
    const result = await run(payments.agent(model), 'Delete the users table');

    expect(payments.runs).toEqual([]);
    expect(result.finalOutput).toBe('I could not: not on the allow list');
    const [blocked] = await gateway.audit!.list({ decision: 'BLOCK' });
    expect(blocked).toMatchObject({ action: 'data.delete', kind: 'decision' });
    expect(JSON.stringify(blocked.parameters)).toBe(DELETE);
    expect(JSON.parse(toolOutputsIn(model.requests[1]).get('call_del_1')!)).toEqual({
      blocked: true,
      reason: 'not on the allow list',
      eventId: blocked.id,
      action: 'data.delete',
    });
  });

  it('gates each of parallel tool calls on its own', async () => {
    const model = payments.model([
      [
        functionCall('call_par_pay', 'payments_initiate', SMALL),
        functionCall('call_par_del', 'data_delete', DELETE),
      ],
      [assistantMessage('one of two')],
    ]);
    await run(payments.agent(model), 'Pay and delete');

    expect(payments.runs.map((r) => r.tool)).toEqual(['payments_initiate']);
    const outputs = toolOutputsIn(model.requests[1]);
    expect(JSON.parse(outputs.get('call_par_pay')!)).toMatchObject({ paid: 50 });
    expect(JSON.parse(outputs.get('call_par_del')!)).toMatchObject({
      blocked: true,
      reason: 'not on the allow list',
    });
    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.action, e.decision]).sort()).toEqual([
      ['data.delete', 'BLOCK'],
      ['payments.initiate', 'ALLOW'],
    ]);
  });

  it("with onBlock: 'throw' a refusal ends the run: the SDK's ToolCallError carries PolicyBlockedError", async () => {
    const model = payments.model([
      [functionCall('call_del_throw', 'data_delete', DELETE)],
      [assistantMessage('never reached')],
    ]);
    const error = await run(payments.agent(model, { onBlock: 'throw' }), 'Delete users').then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ToolCallError);
    const blocked = (error as ToolCallError).error;
    expect(blocked).toBeInstanceOf(PolicyBlockedError);
    expect((blocked as PolicyBlockedError).reason).toBe('not on the allow list');
    const [event] = await gateway.audit!.list({ decision: 'BLOCK' });
    expect((blocked as PolicyBlockedError).eventId).toBe(event.id);
    expect(payments.runs).toEqual([]);
    expect(model.requests).toHaveLength(1);
  });

  it("withdraws a held call when the run's signal aborts: the audit shows escalation.withdrawn", async () => {
    const controller = new AbortController();
    const model = payments.model([
      [functionCall('call_big_abort', 'payments_initiate', BIG)],
      [assistantMessage('never reached')],
    ]);
    const seen = nextPending(reviewer, 'payments.initiate').then((record) => {
      controller.abort(new Error('client went away'));
      return record;
    });
    const outcome = await run(payments.agent(model), 'Pay 800', { signal: controller.signal }).then(
      () => 'finished',
      (e: unknown) => e,
    );
    const record = await seen;

    expect(outcome).toBeInstanceOf(Error);
    expect(payments.runs).toEqual([]);
    await expect(reviewer.approve(record.id, { approverId: 'alice' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
    const events = await gateway.audit!.list({ escalationId: record.id });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.withdrawn']);
    expect(await reviewer.pending()).toEqual([]);
  });

  it("makes the tool call's callId the idempotency key: a retried step is decided once", async () => {
    // The SDK refuses a call id reused within one run; a retried run (the same step again) reuses it.
    const retry = async (args: string) => {
      const model = payments.model([
        [functionCall('call_retry', 'payments_initiate', args)],
        [assistantMessage('done')],
      ]);
      await gateway.runInSession('sess-retry', () => run(payments.agent(model), 'Pay'));
      return model;
    };
    await retry(SMALL);
    await retry(SMALL);
    const other = '{"amount":60,"currency":"GBP"}';
    const third = await retry(other);

    // The same call again is the first answer, replayed; another call under the same id is refused.
    expect(payments.runs.map((r) => r.input)).toEqual([
      { amount: 50, currency: 'GBP' },
      { amount: 50, currency: 'GBP' },
    ]);
    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.decision, JSON.stringify(e.parameters)])).toEqual([
      ['decision', 'ALLOW', SMALL],
      ['decision.replayed', 'ALLOW', SMALL],
      ['decision', 'BLOCK', other],
    ]);
    const refusal = JSON.parse(toolOutputsIn(third.requests[1]).get('call_retry')!);
    expect(refusal).toEqual({
      blocked: true,
      reason: events[2].reason,
      eventId: events[2].id,
      action: 'payments.initiate',
    });
  });

  it('refuses what it cannot gate at once: a hosted tool, a bad actions entry', () => {
    const hosted = { type: 'hosted_tool', name: 'web_search' };
    expect(() => guardAgentTools(gateway, [hosted as never])).toThrow(ProvenanceConfigError);
    expect(() => guardAgentTools(gateway, [hosted as never])).toThrow(/tools\[0\].*'hosted_tool'/);
    const [original] = payments.tools();
    expect(() => guardAgentTool(gateway, original, { actions: { payments_initiate: '' } })).toThrow(
      ProvenanceConfigError,
    );
  });
});

describe('guardAgentTools when no one decides in time', () => {
  it('refuses the held call at the escalation timeout; the model reads why', async () => {
    const app = await bootAgentApp({ escalationTimeout: 150 });
    try {
      const payments = app.get(PaymentsAgent);
      const gateway = app.get(ProvenanceGateway);
      const model = payments.model([
        [functionCall('call_late', 'payments_initiate', BIG)],
        [assistantMessage('no one answered')],
      ]);
      const result = await run(payments.agent(model), 'Pay 800');

      expect(result.finalOutput).toBe('no one answered');
      expect(payments.runs).toEqual([]);
      const events = await gateway.audit!.list({});
      expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
      const read = JSON.parse(toolOutputsIn(model.requests[1]).get('call_late')!);
      expect(read).toEqual({
        blocked: true,
        reason: events[1].reason,
        eventId: events[1].id,
        action: 'payments.initiate',
        escalationId: events[0].escalationId,
      });
    } finally {
      await app.close();
    }
  });
});

describe('guardAgentTools when the gateway cannot decide', () => {
  it('never runs the tool and never tells the model where the gateway is', async () => {
    // A remote gateway on a port nothing listens on: every decision fails.
    const app = await bootAgentApp({
      // The fixture's embedded policy and audit store cannot go with a remote gateway.
      policy: undefined,
      audit: undefined,
      gatewayUrl: 'http://127.0.0.1:9/unreachable-gateway',
      apiKey: 'pk_test_openai_agents',
      timeout: 2_000,
    });
    try {
      const payments = app.get(PaymentsAgent);
      const model = payments.model([
        [functionCall('call_down', 'payments_initiate', SMALL)],
        [assistantMessage('the gateway is down')],
      ]);
      const result = await run(payments.agent(model), 'Pay 50');

      expect(result.finalOutput).toBe('the gateway is down');
      expect(payments.runs).toEqual([]);
      const read = toolOutputsIn(model.requests[1]).get('call_down')!;
      expect(JSON.parse(read)).toEqual({
        blocked: true,
        reason:
          'The policy gateway could not decide this call, so the tool did not run. Try again later.',
        eventId: null,
        action: 'payments.initiate',
      });
      expect(JSON.stringify(model.requests[1])).not.toMatch(/127\.0\.0\.1|unreachable-gateway/);
    } finally {
      await app.close();
    }
  });
});
