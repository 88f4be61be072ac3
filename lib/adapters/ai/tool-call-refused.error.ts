import { ProvenanceError } from '../../protocol/provenance.errors';
import type { ToolRefusal } from '../tool-gate/tool-gate.options';
import { AiAdapterMessages } from './ai.messages';

/**
 * Thrown by a gated tool's `execute` when the call was refused (BLOCK, a
 * rejected or expired escalation, a gateway that could not decide). The AI
 * SDK turns it into a `tool-error` part: the model reads its message (the
 * reason and the audit event, never a URL) and the loop goes on. `refusal`
 * is the structured form; `cause` the library's own error.
 */
export class ToolCallRefusedError extends ProvenanceError {
  readonly refusal: ToolRefusal;

  constructor(refusal: ToolRefusal, options: { cause?: unknown } = {}) {
    super(AiAdapterMessages.refused(refusal, approverReasonOf(options.cause)), options);
    this.refusal = refusal;
  }
}

function approverReasonOf(cause: unknown): string | null {
  const reason = (cause as { approverReason?: unknown } | null | undefined)?.approverReason;
  return typeof reason === 'string' && reason !== '' ? reason : null;
}
