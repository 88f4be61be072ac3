import { Observable, type Observer, type Subscriber } from 'rxjs';
import type { GatewayEvent } from '../protocol/gateway.types';
import type { ExecutionResult } from '../protocol/execution-result';
import { GatewayError } from '../protocol/provenance.errors';
import type { GatewayTransport } from '../transport/gateway-transport';
import { startCallTelemetry, type CallTelemetry } from '../telemetry/call-telemetry';
import { claimDecidedCall, rememberDecidedCall } from '../call/decided-call';
import { prepareCall, type CallDefaults, type GateCall, type PreparedCall } from './call-request';
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
  return new Observable<ExecutionResult>((subscriber) => {
    let prepared;
    try {
      context.assertOpen();
      prepared = prepareCall(call, context.defaults);
    } catch (error) {
      subscriber.error(error);
      return;
    }
    const { request } = prepared;
    call.sent = request;
    // Inside the body of a tool this gateway ALLOWed for this very request
    // (an adapter's tool calling a guarded method): that ALLOW, not a second decision.
    const reused = claimDecidedCall(context, request);
    if (reused !== null) {
      subscriber.next(reused);
      subscriber.complete();
      return;
    }
    const { transport } = context;
    // Null, at the cost of one check, without @opentelemetry/api.
    const telemetry = startCallTelemetry(request);
    const observer = callObserver(context, prepared, subscriber, telemetry);
    const inner =
      telemetry === null
        ? transport.execute(request).subscribe(observer)
        : telemetry.run(() => transport.execute(request).subscribe(observer));
    if (telemetry === null) return () => inner.unsubscribe();
    return () => {
      inner.unsubscribe();
      telemetry.abandoned();
    };
  });
}

/**
 * What a call does with the transport's events: interim ESCALATE results,
 * then the final answer (recorded in the session), or the error; fail-open
 * where the gateway service allows it. Everything after the first final event is ignored.
 */
function callObserver(
  context: DecisionContext,
  prepared: PreparedCall,
  subscriber: Subscriber<ExecutionResult>,
  telemetry: CallTelemetry | null,
): Partial<Observer<GatewayEvent>> {
  const { transport } = context;
  const { request, session } = prepared;
  let decided = false;
  return {
    next: (event) => {
      if (decided) return;
      if (event.type === 'escalated') {
        telemetry?.escalated(event.escalation);
        subscriber.next(escalatedResult(request, event.escalation));
        return;
      }
      decided = true;
      telemetry?.decided(event.response);
      let result: ExecutionResult;
      try {
        result = finalResult(request, event.response, transport.target, (blocked) =>
          session?.record(blocked),
        );
      } catch (error) {
        subscriber.error(error);
        return;
      }
      session?.record(result);
      rememberDecidedCall(context, request, result);
      subscriber.next(result);
    },
    error: (error: unknown) => {
      if (decided) return;
      if (context.failsOpen(error, request.action)) {
        decided = true;
        telemetry?.failedOpen(error);
        const result = failedOpenResult(request, error);
        session?.record(result);
        subscriber.next(result);
        subscriber.complete();
        return;
      }
      telemetry?.failed(error);
      subscriber.error(error);
    },
    complete: () => {
      if (decided) {
        subscriber.complete();
        return;
      }
      const error = new GatewayError(
        `Gateway at ${transport.target} gave no decision for '${request.action}'`,
        { url: transport.target, kind: 'protocol' },
      );
      telemetry?.failed(error);
      subscriber.error(error);
    },
  };
}
