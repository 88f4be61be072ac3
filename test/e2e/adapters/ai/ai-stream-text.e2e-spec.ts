import { stepCountIs, streamText, type TextStreamPart, type ToolSet } from 'ai';
import { PolicyBlockedError } from '../../../../lib';
import { ToolCallRefusedError } from '../../../../lib/adapters/ai';
import { bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel } from './scripted-model';

describe('nestjs-provenance/ai: streamText in a Nest app with the embedded gateway', () => {
  let ai: AiApp;

  beforeEach(async () => {
    ai = await bootAiApp();
  });
  afterEach(() => ai.app.close());

  async function parts(model: ScriptedModel, tools: ToolSet): Promise<TextStreamPart<ToolSet>[]> {
    const result = streamText({
      model: model.model,
      tools,
      stopWhen: stepCountIs(5),
      prompt: 'go',
    });
    const seen: TextStreamPart<ToolSet>[] = [];
    for await (const part of result.fullStream) seen.push(part);
    return seen;
  }

  it('streams an allowed and a refused call of one step; the next prompt holds the result and the reason', async () => {
    const model = new ScriptedModel([
      {
        calls: [
          {
            toolName: 'payments_initiate',
            input: { amount: 20, currency: 'EUR', recipient: 'rec_d' },
          },
          { toolName: 'data_delete', input: { table: 'invoices' } },
          { toolName: 'email_send', input: { subject: 'Paid', to: 'd@example.com' } },
        ],
      },
      { text: 'Paid and mailed; deletion refused.' },
    ]);
    const seen = await parts(model, ai.agent.tools());
    const [payId, deleteId, mailId] = model.callIds;

    const results = seen.filter((p) => p.type === 'tool-result');
    expect(results.map((p) => [p.toolCallId, p.preliminary ?? false, p.output])).toEqual(
      expect.arrayContaining([
        [payId, false, { paid: 20, currency: 'EUR', approvedBy: null }],
        // The generator's progress streams through the gate, then its final output.
        [mailId, true, { status: 'queued', to: 'd@example.com' }],
        [mailId, false, { status: 'sent', to: 'd@example.com' }],
      ]),
    );
    const errors = seen.filter((p) => p.type === 'tool-error');
    expect(errors.map((p) => p.toolCallId)).toEqual([deleteId]);
    expect(errors[0].error).toBeInstanceOf(ToolCallRefusedError);
    expect(ai.runs.map((r) => r.tool).sort()).toEqual(['email_send', 'payments_initiate']);

    const next = model.toolOutputsAt(1);
    expect(next.get(payId)).toEqual({
      type: 'json',
      value: { paid: 20, currency: 'EUR', approvedBy: null },
    });
    expect(next.get(deleteId)?.type).toBe('error-text');
    expect(next.get(deleteId)?.value).toContain('agents never delete customer data');
    const text = seen.filter((p) => p.type === 'text-delta').map((p) => p.text);
    expect(text.join('')).toBe('Paid and mailed; deletion refused.');
  });

  it('errors the stream with PolicyBlockedError under onBlock: throw; the model is not asked again', async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'invoices' } }] },
      { text: 'never reached' },
    ]);
    const error = await parts(model, ai.agent.tools({ onBlock: 'throw' })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect(model.prompts).toHaveLength(1);
    expect(ai.runs).toEqual([]);
  });
});
