import type { ExecutionResult } from '../../protocol/execution-result';

/**
 * Tool name → policy action: a map (a tool it does not name keeps its own
 * name) or a function. LLM tool names cannot contain dots, so
 * `{ payments_initiate: 'payments.initiate' }` is the usual shape.
 */
export type ToolActions = Readonly<Record<string, string>> | ((toolName: string) => string);

/** What every framework adapter takes, after the gateway. */
export interface ToolGateOptions {
  /** Which policy action each tool is. Default: the tool's name. */
  actions?: ToolActions;
  /**
   * The audit parameters, from the tool's input only (never the framework's
   * options, messages or abort signal): redact or reshape them here.
   * Default: the input itself (an input that is not an object is recorded as `{ input }`).
   */
  params?: (input: unknown, toolName: string) => Record<string, unknown> | null | undefined;
  /**
   * What a refused call does: `'result'` (default) answers the model with a
   * refusal it can read, and the agent loop goes on; `'throw'` rejects with
   * the library's error (`PolicyBlockedError`, `EscalationTimeoutError`, ...)
   * and ends the run.
   */
  onBlock?: 'result' | 'throw';
  /** Gate under this session id instead of the current session. */
  sessionId?: string;
}

/** One tool call as a framework hands it over. */
export interface ToolCall {
  toolName: string;
  /** The tool's input, as the model sent it (after the framework's schema parsing). */
  input: unknown;
  /**
   * The framework's id for this tool call: the idempotency key, so a
   * retried step is decided once.
   */
  toolCallId?: string;
  /** Aborting it (a closed request, an aborted step) withdraws a held call. */
  signal?: AbortSignal;
  /**
   * Called once, at once, when the call is held for a human (the interim
   * ESCALATE result, with its `escalationId`); the decision goes on (a throw
   * here is ignored).
   */
  onEscalated?: (interim: ExecutionResult) => void;
}

/** What the model reads when a call was refused: the tool did not run. */
export interface ToolRefusal {
  blocked: true;
  /** The policy's or the reviewer's reason; for a gateway failure, a fixed text (never its URL). */
  reason: string;
  /** The audit event that recorded the refusal (null when nothing could be recorded). */
  eventId: string | null;
  /** The policy action the tool is. */
  action: string;
  /** The escalation that ended in the refusal, when a human was asked. */
  escalationId?: string;
  /** The reviewer's own words with a rejection, when they gave some. */
  approverReason?: string;
}
