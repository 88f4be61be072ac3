import type { INestApplicationContext } from '@nestjs/common';
import { Agent, run, RunToolApprovalItem } from '@openai/agents';
import {
  ApprovalForbiddenError,
  ProvenanceError,
  ProvenanceGateway,
  ProvenanceReviewer,
} from '../../../../lib';
import {
  agentToolEscalationId,
  approveAgentToolCall,
} from '../../../../lib/adapters/openai-agents';
import { bootAgentApp, CONTEXT_SECRET, PaymentsAgent } from './agent-app.fixture';
import { assistantMessage, functionCall, toolOutputsIn } from './scripted-model';

const SMALL = '{"amount":50,"currency":"GBP"}';
const BIG = '{"amount":800,"currency":"GBP"}';
const DELETE = '{"table":"users"}';
const deferred = { approvals: 'deferred' } as const;

describe("guardAgentTools with approvals: 'deferred' (the SDK's interruptions)", () => {
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

  it('runs an allowed call without interrupting, decided once', async () => {
    const model = payments.model([
      [functionCall('call_d_small', 'payments_initiate', SMALL)],
      [assistantMessage('paid')],
    ]);
    const result = await run(payments.agent(model, deferred), 'Pay 50', {
      context: { secret: CONTEXT_SECRET },
    });

    expect(result.interruptions).toEqual([]);
    expect(result.finalOutput).toBe('paid');
    expect(payments.runs.map((r) => r.input)).toEqual([{ amount: 50, currency: 'GBP' }]);
    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.decision])).toEqual([['decision', 'ALLOW']]);
    expect(JSON.stringify(events[0].parameters)).toBe(SMALL);
    expect(JSON.stringify(events)).not.toContain(CONTEXT_SECRET);
  });

  it('interrupts an escalated call; the approval goes through the reviewer as the user; the resumed run runs it', async () => {
    const model = payments.model([
      [functionCall('call_d_big', 'payments_initiate', BIG)],
      [assistantMessage('paid after approval')],
    ]);
    const agent = payments.agent(model, deferred);
    const first = await gateway.runInSession('sess-ask', () => run(agent, 'Pay 800'));

    // The run stopped; the gateway holds the call for a human meanwhile.
    expect(first.finalOutput).toBeUndefined();
    expect(first.interruptions).toHaveLength(1);
    const [interruption] = first.interruptions;
    expect(interruption).toBeInstanceOf(RunToolApprovalItem);
    expect(interruption.name).toBe('payments_initiate');
    expect(payments.runs).toEqual([]);
    const [pending] = await reviewer.pending();
    expect(pending).toMatchObject({ action: 'payments.initiate', sessionId: 'sess-ask' });
    expect(pending.parameters).toEqual({ amount: 800, currency: 'GBP' });
    expect(agentToolEscalationId(interruption)).toBe(pending.id);

    // Another request: the authenticated user approves.
    const outcome = await gateway.runInSession('sess-review', () =>
      payments.approve(first.state, interruption, { id: 'alice' }),
    );
    expect(outcome).toEqual({
      escalationId: pending.id,
      decision: 'APPROVE',
      approverId: 'alice',
      reason: 'approved in the app by alice',
    });
    expect(payments.runs).toEqual([]);

    // A third request resumes the run.
    const resumed = await gateway.runInSession('sess-resume', () => run(agent, first.state));
    expect(resumed.interruptions).toEqual([]);
    expect(resumed.finalOutput).toBe('paid after approval');
    expect(payments.runs).toEqual([
      { tool: 'payments_initiate', input: { amount: 800, currency: 'GBP' }, approvedBy: 'alice' },
    ]);
    const read = JSON.parse(toolOutputsIn(model.requests[1]).get('call_d_big')!);
    expect(read).toEqual({ paid: 800, currency: 'GBP', approvedBy: 'alice' });

    // One escalation, one approval by alice, its grant used once by the identical call: nothing else allowed.
    const events = await gateway.audit!.list({});
    expect(events.map((e) => e.kind)).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
      'grant.used',
    ]);
    expect(events.every((e) => e.escalationId === pending.id)).toBe(true);
    expect(events[2]).toMatchObject({
      actorHumanId: 'alice',
      approverReason: 'approved in the app by alice',
      sessionId: 'sess-ask',
    });
    expect(events[3]).toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
    for (const event of [events[0], events[3]]) {
      expect(JSON.stringify(event.parameters)).toBe(BIG);
    }
  });

  it('rejects an escalated call through the reviewer; the model reads the refusal when the run resumes', async () => {
    const model = payments.model([
      [functionCall('call_d_reject', 'payments_initiate', BIG)],
      (request) => {
        const refusal = JSON.parse(toolOutputsIn(request).get('call_d_reject')!);
        return [assistantMessage(`refused: ${refusal.reason}`)];
      },
    ]);
    const agent = payments.agent(model, deferred);
    const first = await run(agent, 'Pay 800');
    const [interruption] = first.interruptions;

    const refusal = await payments.reject(first.state, interruption, { id: 'bob' });
    const resumed = await run(agent, first.state);

    expect(payments.runs).toEqual([]);
    const events = await gateway.audit!.list({});
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.rejected']);
    expect(events[1]).toMatchObject({ actorHumanId: 'bob', approverReason: 'not this month' });
    expect(refusal).toEqual({
      blocked: true,
      reason: 'a reviewer rejected this call, so it did not run',
      eventId: null,
      action: 'payments.initiate',
      escalationId: events[0].escalationId,
      // The reviewer's own words reach the model too.
      approverReason: 'not this month',
    });
    expect(JSON.parse(toolOutputsIn(model.requests[1]).get('call_d_reject')!)).toEqual(refusal);
    expect(resumed.finalOutput).toBe(`refused: ${refusal.reason}`);
  });

  it('refuses a blocked call without interrupting: the model reads the reason', async () => {
    const model = payments.model([
      [functionCall('call_d_del', 'data_delete', DELETE)],
      [assistantMessage('could not')],
    ]);
    const result = await run(payments.agent(model, deferred), 'Delete users');

    expect(result.interruptions).toEqual([]);
    expect(payments.runs).toEqual([]);
    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.decision])).toEqual([['decision', 'BLOCK']]);
    expect(JSON.parse(toolOutputsIn(model.requests[1]).get('call_d_del')!)).toEqual({
      blocked: true,
      reason: 'not on the allow list',
      eventId: events[0].id,
      action: 'data.delete',
    });
  });

  it('does not let the agent approve its own call: the state stays interrupted', async () => {
    const model = payments.model([
      [functionCall('call_d_self', 'payments_initiate', BIG)],
      [assistantMessage('never reached')],
    ]);
    const agent = payments.agent(model, deferred);
    const first = await run(agent, 'Pay 800');
    const [interruption] = first.interruptions;

    await expect(
      payments.approve(first.state, interruption, { id: 'agent-openai' }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    const again = await run(agent, first.state);

    expect(again.interruptions).toHaveLength(1);
    expect(agentToolEscalationId(again.interruptions[0])).toBe(agentToolEscalationId(interruption));
    expect(payments.runs).toEqual([]);
    expect(model.requests).toHaveLength(1);
    const events = await gateway.audit!.list({});
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending']);
  });

  it("an approval in the SDK's state alone runs nothing: the resumed call is refused, not held, its new escalation withdrawn", async () => {
    const model = payments.model([
      [functionCall('call_d_sdk_only', 'payments_initiate', BIG)],
      [assistantMessage('not paid')],
    ]);
    const agent = payments.agent(model, deferred);
    const first = await run(agent, 'Pay 800');
    const [interruption] = first.interruptions;
    const escalationId = agentToolEscalationId(interruption)!;
    first.state.approve(interruption);

    const resumed = await run(agent, first.state);

    expect(resumed.finalOutput).toBe('not paid');
    expect(payments.runs).toEqual([]);
    const withdrawn = await gateway.audit!.list({ kind: 'escalation.withdrawn' });
    expect(withdrawn).toHaveLength(1);
    expect(withdrawn[0].escalationId).not.toBe(escalationId);
    const read = JSON.parse(toolOutputsIn(model.requests[1]).get('call_d_sdk_only')!);
    expect(read).toMatchObject({
      blocked: true,
      action: 'payments.initiate',
      escalationId: withdrawn[0].escalationId,
    });
    expect(read.reason).toContain('no reviewer approved this call');
    const allowed = (await gateway.audit!.list({})).filter((e) => e.decision === 'ALLOW');
    expect(allowed).toEqual([]);
    // The first escalation still waits for a reviewer; the resumed one is gone.
    expect((await reviewer.pending()).map((p) => p.id)).toEqual([escalationId]);
  });

  it('refuses to approve an interruption that is not a held call of a guarded tool', async () => {
    const model = payments.model([
      [functionCall('call_d_other', 'payments_initiate', BIG)],
      [assistantMessage('never reached')],
    ]);
    const first = await run(payments.agent(model, deferred), 'Pay 800');
    const [interruption] = first.interruptions;
    // Another call's arguments under another id: no pending escalation is that call.
    const stranger = new RunToolApprovalItem(
      { ...(interruption.rawItem as object), callId: 'call_unknown', arguments: SMALL } as never,
      interruption.agent,
    );
    await expect(
      approveAgentToolCall(reviewer, first.state, stranger, { approverId: 'alice' }),
    ).rejects.toThrow(ProvenanceError);
    expect(agentToolEscalationId(stranger)).toBeNull();
    // Another call's arguments under the pending call's id are not that call either.
    const altered = new RunToolApprovalItem(
      { ...(interruption.rawItem as object), arguments: SMALL } as never,
      interruption.agent,
    );
    expect(agentToolEscalationId(altered)).toBeNull();
    await expect(
      approveAgentToolCall(reviewer, first.state, altered, { approverId: 'alice' }),
    ).rejects.toThrow(ProvenanceError);
    // The identical call of a tool that is not guarded (an agent without the guarded tools).
    const unguarded = new RunToolApprovalItem(
      { ...(interruption.rawItem as object), callId: 'call_unknown' } as never,
      new Agent({ name: 'other', tools: payments.tools() }),
    );
    await expect(
      approveAgentToolCall(reviewer, first.state, unguarded, { approverId: 'alice' }),
    ).rejects.toThrow(ProvenanceError);
    expect((await reviewer.pending()).map((p) => p.status)).toEqual(['PENDING']);
  });
});
