import { EmptyError, Observable, type Unsubscribable } from 'rxjs';
import { ExecutionResult } from '../protocol/execution-result';
import type { TransportCallOptions } from '../transport/gateway-transport';
import { EmbeddedTransport } from '../transport/embedded/embedded.transport';
import { startCallTelemetry } from '../telemetry/call-telemetry';
import { claimDecidedCall } from '../call/decided-call';
import { prepareCall, type GateCall, type PreparedCall } from './call-request';
import { ForwardingObserver, type DecisionContext, type ResultSink } from './call-observer';
import { SettledObserver } from './settled-observer';

export type { DecisionContext } from './call-observer';

const DEFERRED: TransportCallOptions = { deferred: true };

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
 * `lastValueFrom` per call (kept for as long as a human decides); on the
 * embedded transport, no promise or resolvers of its own either (the
 * engine's answer chained to a SettledObserver is the caller's promise).
 * Nothing here abandons a call: like `lastValueFrom`, it waits for the end.
 */
export function decideCallPromise(
  context: DecisionContext,
  call: GateCall,
): Promise<ExecutionResult> {
  const embedded = call.deferred === true ? null : EmbeddedTransport.direct(context.transport);
  if (embedded === null) {
    return new Promise<ExecutionResult>((resolve, reject) => {
      startCall(context, call, new SettlingSink(resolve, reject, call.deferred === true));
    });
  }
  let opened: PreparedCall | ExecutionResult;
  try {
    opened = openCall(context, call);
  } catch (error) {
    return Promise.reject(error);
  }
  if (opened instanceof ExecutionResult) return Promise.resolve(opened);
  const { request } = opened;
  const telemetry = startCallTelemetry(request);
  const observer = new SettledObserver(context, opened, telemetry, false);
  return telemetry === null
    ? embedded.executeSettled(request, observer)
    : telemetry.run(() => embedded.executeSettled(request, observer));
}

/**
 * The start every call shares: checked, and its request noted as the one
 * sent; or, inside the body of a tool this gateway ALLOWed for this very
 * request (an adapter's tool calling a guarded method), that ALLOW rather
 * than a second decision. Throws when the call cannot be gated.
 */
function openCall(context: DecisionContext, call: GateCall): PreparedCall | ExecutionResult {
  context.assertOpen();
  const prepared = prepareCall(call, context.defaults);
  call.sent = prepared.request;
  return claimDecidedCall(context, prepared.request) ?? prepared;
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
  let opened: PreparedCall | ExecutionResult;
  try {
    opened = openCall(context, call);
  } catch (error) {
    sink.error(error);
    return;
  }
  if (opened instanceof ExecutionResult) {
    sink.next(opened);
    sink.complete();
    return;
  }
  const prepared = opened;
  const { request } = prepared;
  const { transport } = context;
  // Null, at the cost of one check, without @opentelemetry/api.
  const telemetry = startCallTelemetry(request);
  const deferred = call.deferred === true;
  const observer = new ForwardingObserver(context, prepared, telemetry, deferred, sink);
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
