import { EmptyError, Observable, type Observer, type Unsubscribable } from 'rxjs';
import type { GatewayEvent, GatewayRequest } from '../protocol/gateway.types';
import type { ExecutionResult } from '../protocol/execution-result';
import { GatewayError } from '../protocol/provenance.errors';
import type { GatewayTransport, TransportCallOptions } from '../transport/gateway-transport';
import { EmbeddedTransport } from '../transport/embedded/embedded.transport';
import type { ProvenanceSession } from '../session/provenance.session';
import { startCallTelemetry, type CallTelemetry } from '../telemetry/call-telemetry';
import { claimDecidedCall, rememberDecidedCall } from '../call/decided-call';
import { prepareCall, type CallDefaults, type GateCall, type PreparedCall } from './call-request';
import { escalatedResult, failedOpenResult, finalResult } from './call-results';

const DEFERRED: TransportCallOptions = { deferred: true };

/** What deciding a call needs of the gateway service. */
export interface DecisionContext {
  readonly transport: GatewayTransport;
  readonly defaults: CallDefaults;
  /** Throws when no call may be gated any more (the gateway closed). */
  assertOpen(): void;
  /** Whether this failure lets the call through (`onGatewayError: 'open'`); logs when it does. */
  failsOpen(error: unknown, action: string): error is GatewayError;
}

/**
 * The one code path of every gated call. Cold; emits interim ESCALATE
 * results, then exactly one ALLOW result, or errors. The final result (and a
 * BLOCK that raises) is recorded in the session that the call belongs to.
 *
 * One hand-written Observable rather than an operator chain: this runs on
 * every gated call, and each operator costs a subscriber and closures per
 * call (and memory for every call held by an escalation).
 */
export function decideCall(context: DecisionContext, call: GateCall): Observable<ExecutionResult> {
  return new Observable<ExecutionResult>((subscriber) => startCall(context, call, subscriber));
}

/**
 * The same call as a promise: the ALLOW result, or the error `decideCall`
 * would end with. Interim ESCALATE results are not kept. The same start and
 * the same CallObserver as `decideCall`, with no Observable, Subscriber or
 * `lastValueFrom` per call (kept for as long as a human decides). Nothing
 * here abandons a call: like `lastValueFrom`, it waits for the end.
 */
export function decideCallPromise(
  context: DecisionContext,
  call: GateCall,
): Promise<ExecutionResult> {
  return new Promise<ExecutionResult>((resolve, reject) => {
    startCall(context, call, new SettlingSink(resolve, reject, call.deferred === true));
  });
}

/** Where a call's results go: an rxjs Subscriber, or a promise's settlement. */
interface ResultSink {
  next(result: ExecutionResult): void;
  error(error: unknown): void;
  complete(): void;
}

/**
 * Settles a promise as `lastValueFrom` would: with the last final result at
 * completion, with the error on error. An interim ESCALATE result is not
 * kept, so completion without a final result rejects (never an ALLOW); but
 * a deferred call's is, since its transport completes after it once detached.
 */
class SettlingSink implements ResultSink {
  private last: ExecutionResult | null = null;

  constructor(
    private readonly resolve: (result: ExecutionResult) => void,
    private readonly reject: (error: unknown) => void,
    private readonly keepsInterim: boolean,
  ) {}

  next(result: ExecutionResult): void {
    if (this.keepsInterim || !result.escalated) this.last = result;
  }

  error(error: unknown): void {
    this.reject(error);
  }

  complete(): void {
    const { last } = this;
    if (last === null) this.reject(new EmptyError());
    else this.resolve(last);
  }
}

/** Starts one call, its results to `sink`; returns how to abandon it (nothing when it ended at once). */
function startCall(
  context: DecisionContext,
  call: GateCall,
  sink: ResultSink,
): Unsubscribable | (() => void) | undefined {
  let prepared;
  try {
    context.assertOpen();
    prepared = prepareCall(call, context.defaults);
  } catch (error) {
    sink.error(error);
    return;
  }
  const { request } = prepared;
  call.sent = request;
  // Inside the body of a tool this gateway ALLOWed for this very request
  // (an adapter's tool calling a guarded method): that ALLOW, not a second decision.
  const reused = claimDecidedCall(context, request);
  if (reused !== null) {
    sink.next(reused);
    sink.complete();
    return;
  }
  const { transport } = context;
  // Null, at the cost of one check, without @opentelemetry/api.
  const telemetry = startCallTelemetry(request);
  const deferred = call.deferred === true;
  const observer = new CallObserver(context, prepared, sink, telemetry, deferred);
  // The embedded engine's events straight to the observer: no inner
  // Observable and Subscriber kept for as long as a human decides.
  const embedded = EmbeddedTransport.direct(transport);
  const send = (): Unsubscribable =>
    embedded === null
      ? transport.execute(request, deferred ? DEFERRED : undefined).subscribe(observer)
      : embedded.executeInto(request, observer, deferred);
  const inner = telemetry === null ? send() : telemetry.run(send);
  if (telemetry === null) return inner;
  return () => {
    inner.unsubscribe();
    telemetry.abandoned();
  };
}

/**
 * What a call does with the transport's events: interim ESCALATE results,
 * then the final answer (recorded in the session), or the error; fail-open
 * where the gateway service allows it. Everything after the first final event
 * is ignored. One object with methods rather than three closures: it lives as
 * long as the call is held.
 */
class CallObserver implements Observer<GatewayEvent> {
  private decided = false;
  /** A deferred call that was held: completing without a decision means the transport detached it. */
  private deferredHold = false;
  private readonly request: GatewayRequest;
  private readonly session: ProvenanceSession | undefined;

  constructor(
    private readonly context: DecisionContext,
    prepared: PreparedCall,
    private readonly subscriber: ResultSink,
    private readonly telemetry: CallTelemetry | null,
    private readonly deferred: boolean,
  ) {
    this.request = prepared.request;
    this.session = prepared.session;
  }

  next(event: GatewayEvent): void {
    if (this.decided) return;
    const { request, session, subscriber, telemetry } = this;
    if (event.type === 'escalated') {
      telemetry?.escalated(event.escalation);
      this.deferredHold = this.deferred;
      subscriber.next(escalatedResult(request, event.escalation));
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
      subscriber.error(error);
      return;
    }
    session?.record(result);
    rememberDecidedCall(this.context, request, result);
    subscriber.next(result);
  }

  error(error: unknown): void {
    if (this.decided) return;
    const { context, request, session, subscriber, telemetry } = this;
    if (context.failsOpen(error, request.action)) {
      this.decided = true;
      telemetry?.failedOpen(error);
      const result = failedOpenResult(request, error);
      session?.record(result);
      subscriber.next(result);
      subscriber.complete();
      return;
    }
    telemetry?.failed(error);
    subscriber.error(error);
  }

  complete(): void {
    const { subscriber, telemetry } = this;
    if (this.decided) {
      subscriber.complete();
      return;
    }
    if (this.deferredHold) {
      // Not a decision: the interim ESCALATE (already emitted) is the call's last value.
      telemetry?.deferred();
      subscriber.complete();
      return;
    }
    const { target } = this.context.transport;
    const error = new GatewayError(
      `Gateway at ${target} gave no decision for '${this.request.action}'`,
      { url: target, kind: 'protocol' },
    );
    telemetry?.failed(error);
    subscriber.error(error);
  }
}
