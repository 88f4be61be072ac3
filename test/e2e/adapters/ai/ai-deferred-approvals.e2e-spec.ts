import { generateText, stepCountIs, type ModelMessage, type ToolSet } from 'ai';
import { ApprovalForbiddenError, PolicyBlockedError, ProvenanceConfigError } from '../../../../lib';
import {
  provenanceToolApproval,
  provenanceTools,
  recordToolApprovals,
} from '../../../../lib/adapters/ai';
import { ACTIONS, bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel, type ScriptedStep } from './scripted-model';

const small = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
const big = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };
const NOT_APPROVED =
  'no reviewer approved this call (no approval was recorded for it, or it expired), so it was not held and did not run';

function pay(input: Record<string, unknown>, then = 'Done.'): ScriptedStep[] {
  return [{ calls: [{ toolName: 'payments_initiate', input }] }, { text: then }];
}

/** The messages the chat holds after a request: the prompt, then what the SDK answered. */
type Chat = ModelMessage[];

/** The approval requests of an assistant's answer, as the SDK wrote them. */
function approvalRequestsOf(messages: Chat): { approvalId: string; toolCallId: string }[] {
  return messages.flatMap((message) =>
    message.role === 'assistant' && typeof message.content !== 'string'
      ? message.content.flatMap((part) =>
          part.type === 'tool-approval-request'
            ? [{ approvalId: part.approvalId, toolCallId: part.toolCallId }]
            : [],
        )
      : [],
  );
}

/**
 * What the UI sends back: the chat so far, as JSON (the next chat request's
 * body, parsed), with the user's answer to each approval request as the next tool message.
 */
function answered(chat: Chat, approved: boolean, reason?: string): Chat {
  const responses = approvalRequestsOf(chat).map(({ approvalId }) => ({
    type: 'tool-approval-response' as const,
    approvalId,
    approved,
    ...(reason === undefined ? {} : { reason }),
  }));
  return JSON.parse(JSON.stringify([...chat, { role: 'tool', content: responses }])) as Chat;
}

describe("nestjs-provenance/ai: approvals: 'deferred' (the SDK's own tool approval flow)", () => {
  let ai: AiApp;

  beforeEach(async () => {
    ai = await bootAiApp();
  });
  afterEach(() => ai.app.close());

  const deferredTools = (app: AiApp = ai): ToolSet =>
    app.agent.tools({ approvals: 'deferred' }) as ToolSet;

  /** One chat request: generateText over the messages so far; the chat with its answer. */
  async function request(model: ScriptedModel, messages: Chat, tools = deferredTools()) {
    const result = await generateText({
      model: model.model,
      tools,
      stopWhen: stepCountIs(5),
      messages,
    });
    return { result, chat: [...messages, ...result.response.messages] as Chat };
  }

  const prompt = (text: string): Chat => [{ role: 'user', content: text }];

  it('runs a small payment with no approval request', async () => {
    const model = new ScriptedModel(pay(small, 'Paid Bob.'));
    const { result, chat } = await request(model, prompt('Pay Bob 50 GBP'));

    expect(result.text).toBe('Paid Bob.');
    expect(approvalRequestsOf(chat)).toEqual([]);
    expect(ai.runs.map((r) => [r.tool, r.input, r.approvedBy])).toEqual([
      ['payments_initiate', small, null],
    ]);
    // needsApproval's ALLOW is the one execute ran under: one decision, not two.
    const events = await ai.gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.decision])).toEqual([['decision', 'ALLOW']]);
    expect(JSON.stringify(events[0].parameters)).toBe(
      '{"amount":50,"currency":"GBP","recipient":"rec_bob"}',
    );
  });

  it('returns at once with an approval request for a big payment, then runs it once, approved by alice, on resume', async () => {
    const model = new ScriptedModel(pay(big, 'Paid Carol.'));
    const first = await request(model, prompt('Pay Carol 2500 GBP'));

    const [callId] = model.callIds;
    expect(approvalRequestsOf(first.chat)).toEqual([
      { approvalId: expect.any(String), toolCallId: callId },
    ]);
    expect(ai.runs).toEqual([]);
    const [pending] = await ai.reviewer.pending();
    expect(pending).toMatchObject({ action: 'payments.initiate', parameters: big });

    const resumed = answered(first.chat, true);
    const outcomes = await recordToolApprovals(ai.reviewer, resumed, { approverId: 'alice' });
    expect(outcomes).toEqual([
      {
        approvalId: approvalRequestsOf(first.chat)[0].approvalId,
        toolCallId: callId,
        toolName: 'payments_initiate',
        escalationId: pending.id,
        outcome: 'approved',
      },
    ]);
    expect(ai.runs).toEqual([]);

    const second = await request(model, resumed);
    expect(second.result.text).toBe('Paid Carol.');
    expect(ai.runs.map((r) => [r.tool, r.input, r.approvedBy])).toEqual([
      ['payments_initiate', big, 'alice'],
    ]);
    expect(model.toolOutputsAt(1).get(callId)).toEqual({
      type: 'json',
      value: { paid: 2500, currency: 'GBP', approvedBy: 'alice' },
    });
    const events = await ai.gateway.audit!.list({ escalationId: pending.id });
    expect(events.map((e) => e.kind)).toContain('escalation.approved');
    expect(JSON.stringify(events[0].parameters)).toBe(
      '{"amount":2500,"currency":"GBP","recipient":"rec_carol"}',
    );
    const allowed = events.filter((e) => e.decision === 'ALLOW');
    expect(allowed.every((e) => e.actorHumanId === 'alice')).toBe(true);
    expect(await ai.reviewer.pending()).toEqual([]);
  });

  it('gives the model execution-denied on a rejection; the tool never runs and the audit names alice', async () => {
    const model = new ScriptedModel(pay(big, 'I did not pay Carol.'));
    const first = await request(model, prompt('Pay Carol 2500 GBP'));
    const resumed = answered(first.chat, false, 'not this month');

    const [outcome] = await provenanceToolApproval(ai.reviewer, resumed, { approverId: 'alice' });
    expect(outcome.outcome).toBe('rejected');
    const second = await request(model, resumed);

    expect(second.result.text).toBe('I did not pay Carol.');
    expect(ai.runs).toEqual([]);
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'execution-denied',
      reason: 'not this month',
    });
    const events = await ai.gateway.audit!.list({ escalationId: outcome.escalationId! });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.rejected']);
    expect(events[1]).toMatchObject({ decision: 'BLOCK', actorHumanId: 'alice' });
  });

  it('answers a BLOCKed deletion with the reason and asks for no approval', async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'customers' } }] },
      { text: 'I may not delete customer data.' },
    ]);
    const { result, chat } = await request(model, prompt('Delete the customers table'));

    expect(result.text).toBe('I may not delete customer data.');
    expect(approvalRequestsOf(chat)).toEqual([]);
    expect(ai.runs).toEqual([]);
    const events = await ai.gateway.audit!.list({});
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ decision: 'BLOCK', parameters: { table: 'customers' } });
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'error-text',
      value:
        "The call of 'data.delete' was refused and the tool did not run: " +
        `agents never delete customer data. Audit event ${events[0].id}.`,
    });
  });

  it("ends the run with PolicyBlockedError on a BLOCK under onBlock: 'throw', as held mode does", async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'customers' } }] },
      { text: 'never asked' },
    ]);
    const tools = ai.agent.tools({ approvals: 'deferred', onBlock: 'throw' }) as ToolSet;
    await expect(
      request(model, prompt('Delete the customers table'), tools),
    ).rejects.toBeInstanceOf(PolicyBlockedError);
    expect(ai.runs).toEqual([]);
    expect(model.prompts).toHaveLength(1);
  });

  it('refuses a resumed call no reviewer approved: not held, the tool never runs, its new escalation withdrawn', async () => {
    const model = new ScriptedModel(pay(big, 'Not paid.'));
    const first = await request(model, prompt('Pay Carol 2500 GBP'));
    const [asked] = await ai.reviewer.pending();
    // The UI says yes, but nobody recorded it through the reviewer.
    const second = await request(model, answered(first.chat, true));

    expect(second.result.text).toBe('Not paid.');
    expect(ai.runs).toEqual([]);
    const output = model.toolOutputsAt(1).get(model.callIds[0]);
    expect(output?.type).toBe('error-text');
    expect(String(output?.value)).toContain(
      `The call of 'payments.initiate' was refused and the tool did not run: ${NOT_APPROVED}.`,
    );
    const withdrawn = await ai.gateway.audit!.list({ kind: 'escalation.withdrawn' });
    const ids = withdrawn.map((e) => e.escalationId);
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(asked.id);
    // The first request's escalation still waits for a reviewer; the resumed one is gone.
    expect((await ai.reviewer.pending()).map((e) => e.id)).toEqual([asked.id]);
  });

  it('asks a tool its own needsApproval only after the policy ALLOWs', async () => {
    const asked: unknown[] = [];
    const raw = ai.agent.shop.raw();
    const tools = provenanceTools(
      ai.gateway,
      {
        ...raw,
        payments_initiate: {
          ...raw.payments_initiate,
          needsApproval: async (input: unknown) => {
            asked.push(input);
            return false;
          },
        },
      },
      { actions: ACTIONS, approvals: 'deferred' },
    ) as ToolSet;
    const model = new ScriptedModel([
      { calls: [{ toolName: 'payments_initiate', input: small }] },
      { calls: [{ toolName: 'payments_initiate', input: big }] },
      { text: 'One paid.' },
    ]);
    const { chat } = await request(model, prompt('Pay both'), tools);

    expect(asked).toEqual([small]);
    expect(approvalRequestsOf(chat).map((r) => r.toolCallId)).toEqual([model.callIds[1]]);
  });

  it("refuses a bad approvals value, and an approver that is not a user's id, naming the field", async () => {
    expect(() => ai.agent.tools({ approvals: 'later' as never })).toThrow(ProvenanceConfigError);
    try {
      ai.agent.tools({ approvals: 'later' as never });
    } catch (error) {
      expect((error as ProvenanceConfigError).option).toBe('approvals');
    }
    await expect(recordToolApprovals(ai.reviewer, [], { approverId: '' })).rejects.toMatchObject({
      option: 'approverId',
    });
  });

  it("refuses the agent's own id as the approver: nothing is approved, the call does not run", async () => {
    const model = new ScriptedModel(pay(big, 'Not paid.'));
    const first = await request(model, prompt('Pay Carol 2500 GBP'));
    const resumed = answered(first.chat, true);
    await expect(
      recordToolApprovals(ai.reviewer, resumed, { approverId: 'agent-ai-e2e' }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    await request(model, resumed);
    expect(ai.runs).toEqual([]);
  });
});
