import { randomUUID } from 'node:crypto';
import { MockLanguageModelV3, convertArrayToReadableStream } from 'ai/test';

// The provider types, as the mock model declares them (no import of a transitive package).
type LanguageModelV3CallOptions = Parameters<MockLanguageModelV3['doGenerate']>[0];
type LanguageModelV3Prompt = LanguageModelV3CallOptions['prompt'];
type LanguageModelV3Content = Awaited<
  ReturnType<MockLanguageModelV3['doGenerate']>
>['content'][number];
type LanguageModelV3StreamPart =
  Awaited<ReturnType<MockLanguageModelV3['doStream']>>['stream'] extends ReadableStream<infer P>
    ? P
    : never;

/** One tool call the scripted model makes. */
export interface ScriptedCall {
  toolName: string;
  input: Record<string, unknown>;
}

/** What the model answers at one step: tool calls, or a final text. */
export type ScriptedStep = { calls: ScriptedCall[] } | { text: string };

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};

/**
 * A language model that answers from a script, with no network: step n of
 * the run gets the n-th answer. Every tool call gets a fresh id (`callIds`,
 * in order), so runs never share an idempotency key by accident; `ids`
 * pins them. `prompts` is what the model received at each step.
 */
export class ScriptedModel {
  readonly model: MockLanguageModelV3;
  readonly callIds: string[] = [];
  private readonly calls: LanguageModelV3CallOptions[] = [];

  constructor(
    private readonly steps: ScriptedStep[],
    private readonly ids: string[] = [],
  ) {
    this.model = new MockLanguageModelV3({
      doGenerate: async (options) => {
        const content = this.answer(options);
        const toolCalls = content.some((part) => part.type === 'tool-call');
        return {
          content,
          finishReason: toolCalls
            ? { unified: 'tool-calls', raw: 'tool_calls' }
            : { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        };
      },
      doStream: async (options) => ({ stream: convertArrayToReadableStream(this.chunks(options)) }),
    });
  }

  /** What the model was sent at each step, in order. */
  get prompts(): LanguageModelV3Prompt[] {
    return this.calls.map((call) => call.prompt);
  }

  /** The tool results the model read at step `step` (0-based): one per tool call, by id. */
  toolOutputsAt(step: number): Map<string, { type: string; value: unknown }> {
    const outputs = new Map<string, { type: string; value: unknown }>();
    for (const message of this.prompts[step] ?? []) {
      if (message.role !== 'tool') continue;
      for (const part of message.content) {
        if (part.type === 'tool-result') {
          outputs.set(part.toolCallId, part.output as { type: string; value: unknown });
        }
      }
    }
    return outputs;
  }

  private answer(options: LanguageModelV3CallOptions): LanguageModelV3Content[] {
    const step = this.steps[this.calls.length];
    this.calls.push(options);
    if (step === undefined) throw new Error(`the script has no step ${this.calls.length}`);
    if ('text' in step) return [{ type: 'text', text: step.text }];
    return step.calls.map((call) => {
      const toolCallId = this.ids[this.callIds.length] ?? `call_${randomUUID()}`;
      this.callIds.push(toolCallId);
      return {
        type: 'tool-call' as const,
        toolCallId,
        toolName: call.toolName,
        input: JSON.stringify(call.input),
      };
    });
  }

  private chunks(options: LanguageModelV3CallOptions): LanguageModelV3StreamPart[] {
    const content = this.answer(options);
    const parts: LanguageModelV3StreamPart[] = [{ type: 'stream-start', warnings: [] }];
    for (const part of content) {
      if (part.type === 'text') {
        parts.push(
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: part.text },
          { type: 'text-end', id: 't' },
        );
      } else if (part.type === 'tool-call') {
        parts.push(part);
      }
    }
    const toolCalls = content.some((part) => part.type === 'tool-call');
    parts.push({
      type: 'finish',
      finishReason: toolCalls
        ? { unified: 'tool-calls', raw: 'tool_calls' }
        : { unified: 'stop', raw: 'stop' },
      usage,
    });
    return parts;
  }
}
