import type { ToolRefusal } from '../../lib/adapters/ai';

/**
 * One tool call of the chat loop and how it ended:
 * - `ran`: the policy (or a reviewer) allowed it and the tool ran; `output` is its result;
 * - `refused`: the tool did not run; `refusal` says why (BLOCK, a rejection, a timeout, no gateway);
 * - `failed`: it was allowed, but the tool itself threw (`error`).
 */
export interface ChatToolCall {
  step: number;
  toolCallId: string;
  toolName: string;
  input: unknown;
  outcome: 'ran' | 'refused' | 'failed';
  output?: unknown;
  refusal?: ToolRefusal;
  error?: string;
  /** What the model read about this call at its next step: the output, or the refusal's text. */
  modelRead: unknown;
}

/** The answer of `POST /agent/chat`. */
export interface AgentChatReport {
  sessionId: string | null;
  /** The model's final answer. */
  text: string;
  finishReason: string;
  calls: ChatToolCall[];
}
