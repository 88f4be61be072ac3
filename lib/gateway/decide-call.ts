import { Observable } from 'rxjs';
import type { ExecutionResult } from '../protocol/execution-result';
import { GatewayError } from '../protocol/provenance.errors';
import type { GatewayTransport } from '../transport/gateway-transport';
import { claimDecidedCall, rememberDecidedCall } from '../call/decided-call';
import { prepareCall, type CallDefaults, type GateCall } from './call-request';
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
    const { request, session } = prepared;
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
    let decided = false;
    const inner = transport.execute(request).subscribe({
      next: (event) => {
        if (decided) return;
        if (event.type === 'escalated') {
          subscriber.next(escalatedResult(request, event.escalation));
          return;
        }
        decided = true;
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
          const result = failedOpenResult(request, error);
          session?.record(result);
          subscriber.next(result);
          subscriber.complete();
          return;
        }
        subscriber.error(error);
      },
      complete: () => {
        if (decided) {
          subscriber.complete();
          return;
        }
        subscriber.error(
          new GatewayError(
            `Gateway at ${transport.target} gave no decision for '${request.action}'`,
            { url: transport.target, kind: 'protocol' },
          ),
        );
      },
    });
    return () => inner.unsubscribe();
  });
}
