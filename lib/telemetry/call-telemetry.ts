import type { Attributes, Context, Span } from '@opentelemetry/api';
import { Decision } from '../protocol/decision';
import type { EscalationTicket, GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import { GatewayError } from '../protocol/provenance.errors';
import { otelApi, type OtelApi } from './otel-api.loader';
import { listeningApi } from './telemetry-activity';
import { instrumentsOf } from './telemetry-instruments';
import { tracerOfApi as tracer } from './telemetry-tracer';
import { TelemetryNames as N } from './telemetry.names';

/** How an escalation ended, as the `provenance.escalations` counter counts it. */
export type EscalationEnding =
  'approved' | 'rejected' | 'expired' | 'withdrawn' | 'abandoned' | 'deferred' | 'error';

const ERROR = 2; // SpanStatusCode.ERROR, without loading the API for a constant

/**
 * One gated call's span (`provenance.decide`), its escalation wait and its
 * metrics. Made only when `@opentelemetry/api` is installed: without it,
 * `startCallTelemetry` answers null and the decision path records nothing.
 * Ends exactly once, whichever of decided, failed or abandoned comes first.
 * Records identities, never parameter values (nor the reason, which may quote one).
 */
export class CallTelemetry {
  private ended = false;
  private wait: Span | null = null;
  private escalatedAt = 0;

  constructor(
    private readonly api: OtelApi,
    private readonly span: Span,
    /** The caller's context with this span current. */
    private readonly context: Context,
    private readonly action: string,
  ) {}

  /** Runs `fn` with the decide span current: the engine's audit append becomes its child. */
  run<T>(fn: () => T): T {
    return this.api.context.with(this.context, fn);
  }

  escalated(ticket: EscalationTicket): void {
    if (this.ended || this.wait !== null) return;
    this.escalatedAt = performance.now();
    this.span.setAttribute(N.escalationId, ticket.escalationId);
    this.wait = tracer(this.api).startSpan(
      N.escalationWaitSpan,
      { attributes: { [N.toolName]: this.action, [N.escalationId]: ticket.escalationId } },
      this.context,
    );
  }

  decided(response: GatewayResponse): void {
    if (this.ended) return;
    this.ended = true;
    const { span } = this;
    span.setAttribute(N.decision, response.decision);
    if (response.eventId !== null) span.setAttribute(N.eventId, response.eventId);
    if (response.escalationId !== null) {
      span.setAttribute(N.escalationId, response.escalationId);
      // Counted even when no escalated event came first (a gateway that holds the request).
      this.endEscalation(escalationEnding(response), true);
    }
    instrumentsOf(this.api).decisions.add(1, {
      [N.decision]: response.decision,
      [N.toolName]: this.action,
    });
    span.end();
  }

  /** The gateway could not decide and `onGatewayError: 'open'` let the call through. */
  failedOpen(error: GatewayError): void {
    if (this.ended) return;
    this.span.setAttribute(N.failedOpen, true);
    this.span.setAttribute(N.decision, Decision.ALLOW);
    instrumentsOf(this.api).decisions.add(1, {
      [N.decision]: Decision.ALLOW,
      [N.toolName]: this.action,
      [N.failedOpen]: true,
    });
    this.failed(error);
  }

  /** The call errors: a GatewayError (counted by kind) or the ProvenanceError that refused it. */
  failed(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const type = errorType(error);
    const { span } = this;
    span.setAttribute(N.errorType, type);
    if (error instanceof GatewayError) {
      if (error.status !== null) span.setAttribute(N.gatewayStatus, error.status);
      instrumentsOf(this.api).gatewayErrors.add(1, {
        [N.errorType]: type,
        [N.toolName]: this.action,
      });
    }
    // The kind or class only: a message may quote what the gateway answered.
    span.setStatus({ code: ERROR, message: type });
    this.endEscalation('error');
    span.end();
  }

  /** A deferred call whose hold was detached: left for a reviewer, not a decision (none is counted). */
  deferred(): void {
    if (this.ended) return;
    this.ended = true;
    this.endEscalation('deferred');
    this.span.end();
  }

  /** The caller unsubscribed before a decision (an escalation it stopped waiting for). */
  abandoned(): void {
    if (this.ended) return;
    this.ended = true;
    this.endEscalation('abandoned');
    this.span.end();
  }

  /**
   * Counts the escalation's ending and ends its wait span. Without a wait
   * (never escalated) only an answer that names an escalation (`escalated`)
   * counts one: a gateway error or an abandoned call before it counts none.
   */
  private endEscalation(ending: EscalationEnding, escalated = false): void {
    const { wait } = this;
    if (wait === null && !escalated) return;
    const instruments = instrumentsOf(this.api);
    const attributes: Attributes = { [N.escalationOutcome]: ending, [N.toolName]: this.action };
    instruments.escalations.add(1, attributes);
    if (wait === null) return;
    this.wait = null;
    const seconds = (performance.now() - this.escalatedAt) / 1000;
    instruments.escalationWait.record(seconds, attributes);
    this.span.setAttribute(N.escalationWait, seconds);
    wait.setAttribute(N.escalationOutcome, ending);
    if (ending === 'error') wait.setStatus({ code: ERROR, message: ending });
    wait.end();
  }
}

/**
 * Starts a gated call's span, a child of whatever span is current (an HTTP
 * request's, say). Null, at the cost of a check, when the API is not
 * installed or nothing is registered with it.
 */
export function startCallTelemetry(
  request: GatewayRequest,
  loaded: OtelApi | null = otelApi(),
): CallTelemetry | null {
  const api = listeningApi(loaded);
  if (api === null) return null;
  const parent = api.context.active();
  const span = tracer(api).startSpan(
    N.decideSpan,
    {
      attributes: {
        [N.toolName]: request.action,
        [N.agentId]: request.agentId,
        [N.sessionId]: request.sessionId,
      },
    },
    parent,
  );
  return new CallTelemetry(api, span, api.trace.setSpan(parent, span), request.action);
}

function escalationEnding(response: GatewayResponse): EscalationEnding {
  if (response.escalationOutcome != null) return response.escalationOutcome;
  return response.decision === Decision.ALLOW ? 'approved' : 'rejected';
}

function errorType(error: unknown): string {
  if (error instanceof GatewayError) return error.kind;
  return error instanceof Error ? error.name : 'unknown';
}
