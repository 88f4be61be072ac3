import type { Observable } from 'rxjs';
import type { Decision } from '../protocol/decision';
import type { ExecutionResult } from '../protocol/execution-result';

export interface ExecuteOptions {
  /** Overrides the current session for this call. */
  sessionId?: string;
  /** The hint the wire format carries (default BLOCK, as the Python SDK). No gateway evaluates it. */
  decision?: Decision;
  /** A server that honours it returns the first answer to a retried call and audits it once. */
  idempotencyKey?: string;
}

/** What a session needs of its gateway: kept narrow so the session does not depend on the service class. */
export interface SessionGateway {
  executeIn(
    session: ProvenanceSession,
    action: string,
    parameters: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Promise<ExecutionResult>;
  executeIn$(
    session: ProvenanceSession,
    action: string,
    parameters: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Observable<ExecutionResult>;
  summarize(session: ProvenanceSession): void;
}

/**
 * A series of calls correlated under one `session_id` in the audit log: the
 * Python SDK's session context manager. Every decided call is recorded,
 * including blocked ones that raised; `escalatedCount` counts calls that went
 * to a human, whatever the human decided (they also count as allowed or blocked).
 */
export class ProvenanceSession {
  readonly results: ExecutionResult[] = [];
  readonly startedAt = new Date();
  private allowed = 0;
  private blocked = 0;
  private escalatedCalls = 0;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly gateway: SessionGateway,
  ) {}

  get allowedCount(): number {
    return this.allowed;
  }

  get blockedCount(): number {
    return this.blocked;
  }

  get escalatedCount(): number {
    return this.escalatedCalls;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Gates a call under this session's id and records its result here. */
  execute(
    action: string,
    parameters?: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Promise<ExecutionResult> {
    return this.gateway.executeIn(this, action, parameters, options);
  }

  execute$(
    action: string,
    parameters?: unknown,
    options?: Omit<ExecuteOptions, 'sessionId'>,
  ): Observable<ExecutionResult> {
    return this.gateway.executeIn$(this, action, parameters, options);
  }

  /** @internal Called by the gateway once per final result. */
  record(result: ExecutionResult): void {
    this.results.push(result);
    if (result.allowed) this.allowed++;
    else if (result.blocked) this.blocked++;
    if (result.escalationId !== null) this.escalatedCalls++;
  }

  /** Logs the one-line summary, once. Later calls still work and are still recorded. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gateway.summarize(this);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      allowedCount: this.allowed,
      blockedCount: this.blocked,
      escalatedCount: this.escalatedCalls,
      results: this.results,
    };
  }
}
