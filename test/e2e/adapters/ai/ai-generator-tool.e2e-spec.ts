import { generateText, stepCountIs, tool } from 'ai';
import { z } from 'zod';
import { currentToolDecision, provenanceTools } from '../../../../lib/adapters/ai';
import { ACTIONS, bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel } from './scripted-model';

describe('nestjs-provenance/ai: an async-generator tool runs with its ALLOW in scope', () => {
  let ai: AiApp;

  beforeEach(async () => {
    ai = await bootAiApp();
  });
  afterEach(() => ai.app.close());

  it('decides a guarded function its body calls on the same input once, across its yields', async () => {
    const sent: string[] = [];
    const send = ai.gateway.guard('email.send', { params: (input: unknown) => input as never })(
      async (input: { subject: string; to: string }) => {
        sent.push(input.to);
        return 'sent';
      },
    );
    const inScope: boolean[] = [];
    const tools = provenanceTools(
      ai.gateway,
      {
        email_send: tool({
          description: 'Send an e-mail, reporting progress',
          inputSchema: z.object({ subject: z.string(), to: z.string() }),
          execute: async function* (input) {
            yield { status: 'queued' as const };
            inScope.push(currentToolDecision() !== undefined);
            const status = await send(input);
            inScope.push(currentToolDecision() !== undefined);
            yield { status };
          },
        }),
      },
      { actions: { email_send: ACTIONS.email_send } },
    );
    const model = new ScriptedModel([
      { calls: [{ toolName: 'email_send', input: { subject: 'Hi', to: 'bob@example.com' } }] },
      { text: 'Sent.' },
    ]);
    const result = await generateText({
      model: model.model,
      tools,
      stopWhen: stepCountIs(5),
      prompt: 'Mail Bob',
    });

    expect(result.text).toBe('Sent.');
    expect(sent).toEqual(['bob@example.com']);
    expect(inScope).toEqual([true, true]);
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'json',
      value: { status: 'sent' },
    });
    // One decision: the guarded call reused the tool's ALLOW instead of being decided again.
    const events = await ai.gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.action, e.decision])).toEqual([
      ['decision', 'email.send', 'ALLOW'],
    ]);
  });

  it('stops the body when the consumer stops early (its finally runs); no ALLOW stays in scope', async () => {
    let finished = false;
    const tools = provenanceTools(
      ai.gateway,
      {
        email_send: tool({
          inputSchema: z.object({ subject: z.string(), to: z.string() }),
          execute: async function* () {
            try {
              yield 1;
              yield 2;
            } finally {
              finished = true;
            }
          },
        }),
      },
      { actions: { email_send: ACTIONS.email_send } },
    );
    const iterable = tools.email_send.execute!(
      { subject: 'Hi', to: 'bob@example.com' },
      { toolCallId: 'call_early', messages: [] },
    ) as AsyncIterable<unknown>;
    for await (const value of iterable) {
      expect(value).toBe(1);
      break;
    }
    expect(finished).toBe(true);
    expect(currentToolDecision()).toBeUndefined();
  });
});
