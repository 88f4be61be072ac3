import { ToolMessage } from '@langchain/core/messages';
import type { ToolRefusal } from '../tool-gate';

/**
 * What the model reads when a call was refused: a ToolMessage (status
 * `error`) whose content is the refusal as JSON (`blocked`, `reason`,
 * `eventId`, `action`, `escalationId`), with the refusal itself as its
 * `artifact` for code that inspects the run.
 */
export function refusalMessage(
  refusal: ToolRefusal,
  toolName: string,
  toolCallId: string | undefined,
): ToolMessage {
  return new ToolMessage({
    content: refusalText(refusal),
    tool_call_id: toolCallId ?? '',
    name: toolName,
    status: 'error',
    artifact: refusal,
  });
}

/** The refusal as the text a model reads. */
export function refusalText(refusal: ToolRefusal): string {
  return JSON.stringify(refusal);
}
