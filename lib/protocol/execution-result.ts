import { Decision } from './decision';

export interface ExecutionResultInit<T = unknown> {
  decision: Decision;
  reason: string;
  action: string;
  eventId: string | null;
  sessionId: string;
  escalationId?: string | null;
  actorHumanId?: string | null;
  /** The human's own words with an approval or rejection, where the gateway passes them on. */
  approverReason?: string | null;
  toolResult?: T;
  /** True when the call was let through because the gateway could not be reached (`onGatewayError: 'open'`). */
  failedOpen?: boolean;
}

/**
 * The answer to one gated call, as the Python SDK's `ExecutionResult`, in
 * TypeScript casing. Returned by every execution path; `toolResult` is set by
 * `@Guarded` (and `gateway.guard`) to the wrapped method's return value.
 */
export class ExecutionResult<T = unknown> {
  readonly decision: Decision;
  readonly reason: string;
  readonly action: string;
  readonly eventId: string | null;
  readonly sessionId: string;
  readonly escalationId: string | null;
  readonly actorHumanId: string | null;
  /** The reviewer's reason for an approval or rejection; null otherwise. */
  readonly approverReason: string | null;
  readonly failedOpen: boolean;
  toolResult: T | undefined;

  constructor(init: ExecutionResultInit<T>) {
    this.decision = init.decision;
    this.reason = init.reason;
    this.action = init.action;
    this.eventId = init.eventId;
    this.sessionId = init.sessionId;
    this.escalationId = init.escalationId ?? null;
    this.actorHumanId = init.actorHumanId ?? null;
    this.approverReason = init.approverReason ?? null;
    this.failedOpen = init.failedOpen ?? false;
    this.toolResult = init.toolResult;
  }

  get allowed(): boolean {
    return this.decision === Decision.ALLOW;
  }

  get blocked(): boolean {
    return this.decision === Decision.BLOCK;
  }

  /** True for the interim result `execute$` emits while a human decides. */
  get escalated(): boolean {
    return this.decision === Decision.ESCALATE;
  }

  toJSON(): Record<string, unknown> {
    return {
      decision: this.decision,
      reason: this.reason,
      action: this.action,
      eventId: this.eventId,
      sessionId: this.sessionId,
      escalationId: this.escalationId,
      actorHumanId: this.actorHumanId,
      approverReason: this.approverReason,
      failedOpen: this.failedOpen,
      toolResult: this.toolResult,
    };
  }
}
