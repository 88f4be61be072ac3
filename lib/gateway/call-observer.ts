import type { Observer } from 'rxjs';
import type { GatewayEvent, GatewayRequest } from '../protocol/gateway.types';
import type { ExecutionResult } from '../protocol/execution-result';
import { GatewayError } from '../protocol/provenance.errors';
import type { ProvenanceSession } from '../session/provenance.session';
import type { CallTelemetry } from '../telemetry/call-telemetry';
import type { GatewayTransport } from '../transport/gateway-transport';
import { rememberDecidedCall } from '../call/decided-call';
import type { CallDefaults, PreparedCall } from './call-request';
import { escalatedResult, failedOpenResult, finalResult } from './call-results';

/** What deciding a call needs of the gateway service. */
export interface DecisionContext {
  readonly transport: GatewayTransport;
  readonly defaults: CallDefaults;
  /** Throws when no call may be gated any more (the gateway closed). */
  assertOpen(): void;
  /** Whether this failure lets the call through (`onGatewayError: 'open'`); logs when it does. */
  failsOpen(error: unknown, action: string): error is GatewayError;
}

/** Where a call's results go: an rxjs Subscriber, or a promise's settlement. */
export interface ResultSink {
  next(result: ExecutionResult): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * What a call does with the transport's events: interim ESCALATE results,
 * then the final answer (recorded in the session), or the error; fail-open
 * where the gateway service allows it. Everything after the first final event
 * is ignored. One object with methods rather than three closures: it lives as
 * long as the call is held. Its results go to `result`, `failure` and `end`
 * (a ResultSink's next, error and complete), which a subclass gives.
 */
export abstract class CallObserver implements Observer<GatewayEvent> {
  private decided = false;
  /** A deferred call that was held: completing without a decision means the transport detached it. */
  private deferredHold = false;
  private readonly request: GatewayRequest;
  private readonly session: ProvenanceSession | undefined;
  private readonly carryDecision: boolean;

  constructor(
    private readonly context: DecisionContext,
    prepared: PreparedCall,
    private readonly telemetry: CallTelemetry | null,
    private readonly deferred: boolean,
  ) {
    this.request = prepared.request;
    this.session = prepared.session;
    this.carryDecision = prepared.carryDecision;
  }

  protected abstract result(result: ExecutionResult): void;
  protected abstract failure(error: unknown): void;
  protected abstract end(): void;

  next(event: GatewayEvent): void {
    if (this.decided) return;
    const { request, session, telemetry } = this;
    if (event.type === 'escalated') {
      telemetry?.escalated(event.escalation);
      this.deferredHold = this.deferred;
      this.result(escalatedResult(request, event.escalation));
      return;
    }
    this.decided = true;
    telemetry?.decided(event.response);
    let result: ExecutionResult;
    try {
      result = finalResult(request, event.response, this.context.transport.target, (blocked) =>
        session?.record(blocked),
      );
    } catch (error) {
      this.failure(error);
      return;
    }
    session?.record(result);
    if (this.carryDecision) rememberDecidedCall(this.context, request, result);
    this.result(result);
  }

  error(error: unknown): void {
    if (this.decided) return;
    const { context, request, session, telemetry } = this;
    if (context.failsOpen(error, request.action)) {
      this.decided = true;
      telemetry?.failedOpen(error);
      const result = failedOpenResult(request, error);
      session?.record(result);
      this.result(result);
      this.end();
      return;
    }
    telemetry?.failed(error);
    this.failure(error);
  }

  complete(): void {
    const { telemetry } = this;
    if (this.decided) {
      this.end();
      return;
    }
    if (this.deferredHold) {
      // Not a decision: the interim ESCALATE (already emitted) is the call's last value.
      telemetry?.deferred();
      this.end();
      return;
    }
    const { target } = this.context.transport;
    const error = new GatewayError(
      `Gateway at ${target} gave no decision for '${this.request.action}'`,
      { url: target, kind: 'protocol' },
    );
    telemetry?.failed(error);
    this.failure(error);
  }
}

/** A CallObserver whose results go on to a ResultSink (an rxjs Subscriber, a SettlingSink). */
export class ForwardingObserver extends CallObserver {
  constructor(
    context: DecisionContext,
    prepared: PreparedCall,
    telemetry: CallTelemetry | null,
    deferred: boolean,
    private readonly sink: ResultSink,
  ) {
    super(context, prepared, telemetry, deferred);
  }

  protected result(result: ExecutionResult): void {
    this.sink.next(result);
  }

  protected failure(error: unknown): void {
    this.sink.error(error);
  }

  protected end(): void {
    this.sink.complete();
  }
}
