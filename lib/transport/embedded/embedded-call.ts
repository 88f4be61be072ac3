import { AuditStoreError } from '../../engine/audit/audit.errors';
import type { ProvenanceEngine } from '../../engine/provenance-engine';
import type { ExecuteHooks } from '../../engine/provenance-engine.types';
import type { EscalationTicket, GatewayEvent, GatewayResponse } from '../../protocol/gateway.types';
import { GatewayError, ProvenanceError } from '../../protocol/provenance.errors';

export const EMBEDDED_TARGET = 'embedded gateway';

/** Where the events of one embedded call go: an rxjs Subscriber, or the gateway service's own observer. */
export interface CallSink {
  next(event: GatewayEvent): void;
  error(error: unknown): void;
  complete(): void;
}

/** A CallSink that keeps what the call's events settled as: its value, or it throws the call's error. */
export interface SettledSink<T> extends CallSink {
  settlement(): T;
}

/**
 * One call to the in-process engine, while it is decided or held: a single
 * object that is the engine's hooks (`onEscalated`) and the caller's
 * subscription (`unsubscribe`), rather than closures, since it lives as long
 * as a human takes to decide. Its sink sees `escalated` (when held), then one
 * `decided` and completion, or one error; nothing after `unsubscribe()`.
 */
export class EmbeddedCall implements ExecuteHooks {
  private active = true;
  /** The escalation id while the call is held. */
  private held: string | null = null;
  /** A deferred call's hold while its detach is under way, and an answer that came meanwhile. */
  private detaching: EscalationTicket | null = null;
  private early: GatewayResponse | null = null;

  constructor(
    private readonly engine: ProvenanceEngine,
    protected readonly sink: CallSink,
    /** Detach the hold instead of waiting for its end (GatewayTransport, "A deferred call"). */
    private readonly deferred = false,
  ) {}

  onEscalated(escalation: EscalationTicket): void {
    this.held = escalation.escalationId;
    if (!this.active) return;
    if (!this.deferred) {
      this.sink.next({ type: 'escalated', escalation });
      return;
    }
    this.detaching = escalation;
    this.engine
      .detach(escalation.escalationId)
      .then(this.detachedOrEnded.bind(this), this.detachFailed.bind(this));
  }

  decided(response: GatewayResponse): void {
    // A deferred call answers once its detach is known: the answer may be a detached approval's.
    if (this.detaching !== null) {
      this.early = response;
      return;
    }
    this.held = null;
    if (!this.active) return;
    this.sink.next({ type: 'decided', response });
    this.sink.complete();
  }

  failed(error: unknown): void {
    this.held = null;
    this.detaching = null;
    if (!this.active) return;
    this.active = false;
    this.sink.error(asGatewayError(error));
  }

  /** The caller stopped waiting. A held call is withdrawn, so that no one approves a call that will never run. */
  unsubscribe(): void {
    this.active = false;
    const held = this.held;
    if (held !== null) void this.engine.withdraw(held).catch(warnWithdrawFailed);
  }

  /** Detached: the hold stays for a reviewer, the caller has its ESCALATE. Not: it had ended, its answer is the call's. */
  private detachedOrEnded(detached: boolean): void {
    const escalation = this.detaching as EscalationTicket;
    this.detaching = null;
    if (!detached) {
      const early = this.early;
      this.early = null;
      if (early !== null) this.decided(early);
      return;
    }
    this.held = null;
    this.early = null;
    if (!this.active) return;
    this.active = false;
    this.sink.next({ type: 'escalated', escalation });
    this.sink.complete();
  }

  /** The hold still counts its caller as waiting: withdraw it (the caller will not run the call), then fail. */
  private detachFailed(error: unknown): void {
    this.detaching = null;
    this.early = null;
    const held = this.held;
    if (held !== null) void this.engine.withdraw(held).catch(warnWithdrawFailed);
    this.failed(error);
  }
}

/**
 * An EmbeddedCall (never deferred, never unsubscribed) whose answer is what
 * its sink settled as: the engine's promise `.then(answered, answerFailed)`
 * is the caller's promise (EmbeddedTransport.executeSettled), so a held call
 * keeps no promise or resolvers of its own besides.
 */
export class SettledEmbeddedCall<T> extends EmbeddedCall {
  constructor(engine: ProvenanceEngine, sink: SettledSink<T>) {
    super(engine, sink);
  }

  answered(response: GatewayResponse): T {
    this.decided(response);
    return (this.sink as SettledSink<T>).settlement();
  }

  answerFailed(error: unknown): T {
    this.failed(error);
    return (this.sink as SettledSink<T>).settlement();
  }
}

function warnWithdrawFailed(error: unknown): void {
  // The hold then ends at its deadline instead (blocked): nothing to answer, only to say.
  console.warn(
    `provenance: could not withdraw an abandoned escalation: ${error instanceof Error ? error.message : String(error)}`,
  );
}

// A ProvenanceError (a refused parameter, an unknown escalation) keeps its own
// type; anything else means the engine could not decide or record, which is
// never a reason to let a call through.
function asGatewayError(error: unknown): unknown {
  if (error instanceof ProvenanceError && !(error instanceof AuditStoreError)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError(`The embedded gateway could not decide: ${message}`, {
    url: EMBEDDED_TARGET,
    kind: 'internal',
    cause: error,
  });
}
