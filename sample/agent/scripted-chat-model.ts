import { randomUUID } from 'node:crypto';
import type { LanguageModel } from 'ai';

/** The AI SDK's model interface (v3), as `ai` itself names it. */
type LanguageModelV3 = Extract<LanguageModel, { specificationVersion: 'v3' }>;
type CallOptions = Parameters<LanguageModelV3['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<LanguageModelV3['doGenerate']>>;

/** One tool call of the script: what an LLM would ask for at that step. */
export interface ScriptedToolCall {
  toolName: string;
  input: Record<string, unknown>;
}

/** What the model read back for one of its tool calls: the tool's output, or the refusal's text. */
export interface ModelRead {
  toolCallId: string;
  toolName: string;
  /** `json`/`text` for an output, `error-text`/`error-json` for a tool-error (a refusal). */
  type: string;
  value: unknown;
}

/** The sample's script: a small payment, a data deletion, a big payment, then a summary. */
export const CHAT_SCRIPT: readonly ScriptedToolCall[] = [
  {
    toolName: 'payments_initiate',
    input: { amount: 50, currency: 'GBP', recipientId: 'rec_chat_small' },
  },
  { toolName: 'data_delete', input: { table: 'customers', id: 'cus_42' } },
  {
    toolName: 'payments_initiate',
    input: { amount: 800, currency: 'GBP', recipientId: 'rec_chat_big' },
  },
];

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/**
 * A language model of the sample's own that answers from a script, with no
 * network and no API key: at each step it asks for the next tool call of
 * `script` (one per step, each with a fresh tool-call id, the idempotency
 * key), and once the script is done it answers with a text made of what it
 * read back. It is a real `LanguageModelV3`, so `generateText` runs its
 * real loop around it: the tool calls, their gating, and what goes back to
 * the model are the AI SDK's and the library's, not the sample's. One
 * instance per conversation: `reads` is what it was told about each call.
 */
export class ScriptedChatModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'sample';
  readonly modelId = 'scripted-chat';
  readonly supportedUrls = {};
  readonly reads: ModelRead[] = [];
  private calls = 0;

  constructor(private readonly script: readonly ScriptedToolCall[] = CHAT_SCRIPT) {}

  async doGenerate(options: CallOptions): Promise<GenerateResult> {
    this.read(options.prompt);
    // A real model would choose from what it read; this one follows its script whatever it read.
    const next = this.script[this.calls];
    if (next === undefined) {
      return this.answer([{ type: 'text', text: summary(this.reads) }], 'stop');
    }
    const toolCallId = `call_${randomUUID()}`;
    this.calls += 1;
    return this.answer(
      [
        {
          type: 'tool-call',
          toolCallId,
          toolName: next.toolName,
          input: JSON.stringify(next.input),
        },
      ],
      'tool-calls',
    );
  }

  doStream(): never {
    throw new Error('ScriptedChatModel answers generateText only');
  }

  /** Records the tool results in the prompt that it has not seen before. */
  private read(prompt: CallOptions['prompt']): void {
    for (const message of prompt) {
      if (message.role !== 'tool') continue;
      for (const part of message.content) {
        if (part.type !== 'tool-result') continue;
        if (this.reads.some((r) => r.toolCallId === part.toolCallId)) continue;
        const output = part.output as { type: string; value?: unknown };
        this.reads.push({
          toolCallId: part.toolCallId,
          toolName: part.toolName,
          type: output.type,
          value: output.value,
        });
      }
    }
  }

  private answer(
    content: GenerateResult['content'],
    finish: 'stop' | 'tool-calls',
  ): GenerateResult {
    const raw = finish === 'stop' ? 'stop' : 'tool_calls';
    return { content, finishReason: { unified: finish, raw }, usage, warnings: [] };
  }
}

/** The model's last words: one line per tool call, from what it read back. */
function summary(reads: readonly ModelRead[]): string {
  const lines = reads.map((r) => {
    const said = typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
    return r.type.startsWith('error') ? `${r.toolName} refused: ${said}` : `${r.toolName}: ${said}`;
  });
  return ['I did what the policy let me do:', ...lines].join('\n');
}
