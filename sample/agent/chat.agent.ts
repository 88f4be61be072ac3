import { Injectable } from '@nestjs/common';
import { generateText, stepCountIs, type StepResult, type ToolSet } from 'ai';
import { ProvenanceGateway } from '../../lib';
import { ToolCallRefusedError } from '../../lib/adapters/ai';
import type { AgentChatReport, ChatToolCall } from './agent-chat.report';
import { ChatTools } from './chat-tools';
import { ScriptedChatModel, type ModelRead } from './scripted-chat-model';

/** Enough for the script (three calls and an answer), few enough that a loop cannot spin. */
const MAX_CHAT_STEPS = 6;

/**
 * An LLM loop on the Vercel AI SDK: `generateText` with the gated chat tools,
 * over the sample's scripted model (no network, no key; swap in any AI SDK
 * provider's model). A refused call reaches the model as a `tool-error` and
 * the loop goes on; an escalated one holds the loop (and the request) until a
 * reviewer decides; aborting (the client went away) withdraws it.
 */
@Injectable()
export class ChatAgent {
  constructor(
    private readonly gateway: ProvenanceGateway,
    private readonly chatTools: ChatTools,
  ) {}

  async chat(prompt: string, abortSignal?: AbortSignal): Promise<AgentChatReport> {
    const model = new ScriptedChatModel();
    const result = await generateText({
      model,
      tools: this.chatTools.tools(),
      stopWhen: stepCountIs(MAX_CHAT_STEPS),
      prompt,
      abortSignal,
    });
    return {
      sessionId: this.gateway.currentSession()?.id ?? null,
      text: result.text,
      finishReason: result.finishReason,
      calls: result.steps.flatMap((step, index) => callsOf(step, index, model.reads)),
    };
  }
}

function callsOf<TOOLS extends ToolSet>(
  step: StepResult<TOOLS>,
  index: number,
  reads: readonly ModelRead[],
): ChatToolCall[] {
  const calls: ChatToolCall[] = [];
  for (const part of step.content) {
    if (part.type !== 'tool-result' && part.type !== 'tool-error') continue;
    const base = {
      step: index,
      toolCallId: part.toolCallId,
      toolName: part.toolName,
      input: part.input,
      modelRead: reads.find((r) => r.toolCallId === part.toolCallId)?.value ?? null,
    };
    if (part.type === 'tool-result') {
      calls.push({ ...base, outcome: 'ran', output: part.output });
    } else {
      const error = part.error;
      calls.push(
        error instanceof ToolCallRefusedError
          ? { ...base, outcome: 'refused', refusal: error.refusal }
          : // Allowed, but the tool itself threw.
            {
              ...base,
              outcome: 'failed',
              error: error instanceof Error ? error.message : String(error),
            },
      );
    }
  }
  return calls;
}
