import {
  convertToModelMessages,
  readUIMessageStream,
  stepCountIs,
  streamText,
  type ModelMessage,
  type ToolSet,
  type UIMessage,
} from 'ai';
import { recordToolApprovals } from '../../../../lib/adapters/ai';
import { bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel } from './scripted-model';

const big = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };

describe("nestjs-provenance/ai: approvals: 'deferred' with streamText and the UI's messages", () => {
  let ai: AiApp;

  beforeEach(async () => {
    ai = await bootAiApp();
  });
  afterEach(() => ai.app.close());

  /** One chat request as a route handler streams it: the assistant's UI message (`continuing` the last one). */
  async function streamed(
    model: ScriptedModel,
    messages: ModelMessage[],
    continuing?: UIMessage,
  ): Promise<UIMessage> {
    const result = streamText({
      model: model.model,
      tools: ai.agent.tools({ approvals: 'deferred' }) as ToolSet,
      stopWhen: stepCountIs(5),
      messages,
    });
    let last: UIMessage | undefined;
    for await (const message of readUIMessageStream({
      message: continuing,
      stream: result.toUIMessageStream(),
    })) {
      last = message;
    }
    return JSON.parse(JSON.stringify(last)) as UIMessage;
  }

  /** What the UI's `addToolApprovalResponse({ id, approved })` leaves: the part answered. */
  function respond(message: UIMessage, approved: boolean): UIMessage {
    const parts = message.parts.map((part) =>
      'state' in part && part.state === 'approval-requested'
        ? { ...part, state: 'approval-responded', approval: { ...part.approval, approved } }
        : part,
    );
    return { ...message, parts } as UIMessage;
  }

  it('streams an approval request, records the UI message answer as alice, and the resumed stream runs the call', async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'payments_initiate', input: big }] },
      { text: 'Paid Carol.' },
    ]);
    const user: UIMessage = {
      id: 'u1',
      role: 'user',
      parts: [{ type: 'text', text: 'Pay Carol' }],
    };
    const asked = await streamed(model, await convertToModelMessages([user]));
    const requested = asked.parts.filter(
      (part) => 'state' in part && part.state === 'approval-requested',
    );
    expect(requested).toHaveLength(1);
    expect(ai.runs).toEqual([]);
    const [pending] = await ai.reviewer.pending();

    const chat = [user, respond(asked, true)];
    const outcomes = await recordToolApprovals(ai.reviewer, chat, { approverId: 'alice' });
    expect(outcomes).toEqual([
      {
        approvalId: expect.any(String),
        toolCallId: model.callIds[0],
        toolName: 'payments_initiate',
        escalationId: pending.id,
        outcome: 'approved',
      },
    ]);

    const answer = await streamed(model, await convertToModelMessages(chat), chat[1]);
    expect(ai.runs.map((r) => [r.input, r.approvedBy])).toEqual([[big, 'alice']]);
    expect(answer.parts).toContainEqual(
      expect.objectContaining({ type: 'text', text: 'Paid Carol.' }),
    );
    const kinds = (await ai.gateway.audit!.list({ escalationId: pending.id })).map((e) => e.kind);
    expect(kinds).toContain('escalation.approved');
  });

  it('records a rejection from the UI message as alice; the resumed stream never runs the tool', async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'payments_initiate', input: big }] },
      { text: 'Not paid.' },
    ]);
    const user: UIMessage = {
      id: 'u1',
      role: 'user',
      parts: [{ type: 'text', text: 'Pay Carol' }],
    };
    const asked = await streamed(model, await convertToModelMessages([user]));
    const chat = [user, respond(asked, false)];
    const [outcome] = await recordToolApprovals(ai.reviewer, chat, { approverId: 'alice' });
    expect(outcome.outcome).toBe('rejected');

    await streamed(model, await convertToModelMessages(chat), chat[1]);
    expect(ai.runs).toEqual([]);
    const events = await ai.gateway.audit!.list({ escalationId: outcome.escalationId! });
    expect(events.map((e) => [e.kind, e.actorHumanId])).toEqual([
      ['escalation.pending', null],
      ['escalation.rejected', 'alice'],
    ]);
  });
});
