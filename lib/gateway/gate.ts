import {
  EMPTY,
  Observable,
  catchError,
  filter,
  from,
  isObservable,
  of,
  switchMap,
  tap,
  throwError,
} from 'rxjs';
import type { ExecutionResult } from '../protocol/execution-result';
import { PolicyBlockedError, ProvenanceError } from '../protocol/provenance.errors';
import type { GateCall } from './call-request';
import { SessionContext } from '../session/session.context';
import { normalizeParameters } from '../protocol/call-parameters';
import { parametersTextOf } from '../protocol/canonical-stamp';

/** The one thing a guarded call needs of a gateway: its single decision path. */
export interface GateDecider {
  decide$(call: GateCall): Observable<ExecutionResult>;
  /** The same decision as a promise of the final result (no interim ESCALATE results). */
  decideCall(call: GateCall): Promise<ExecutionResult>;
  /**
   * The body's arguments are no longer those that were decided: record the
   * refusal (where the gateway can) and return the error to throw.
   */
  refuseChangedArguments(
    call: GateCall,
    result: ExecutionResult,
    changed: ChangedArguments,
  ): Promise<Error>;
}

/**
 * Checks, right before the body runs, that the arguments it is about to run
 * with are still, byte for byte, the canonical parameters that were decided:
 * the walker reads them again (getters included) and the two texts are
 * compared. A body whose arguments were changed while a human looked, or
 * whose getter answers differently the second time, does not run.
 */
function changedArguments(invocation: GatedInvocation): ChangedArguments | null {
  const { call } = invocation;
  const sent = call.sent;
  if (sent === undefined) return null;
  let current: Record<string, unknown> | null;
  try {
    const live = invocation.readParameters ? invocation.readParameters() : call.parameters;
    current = normalizeParameters(call.action, live, Infinity);
  } catch {
    // A getter that throws now did not throw when the call was decided.
    return { current: undefined };
  }
  return parametersTextOf(current) === parametersTextOf(sent.parameters) ? null : { current };
}

/** What the arguments read as now: normalised, or undefined when they could not be read. */
export interface ChangedArguments {
  current: Record<string, unknown> | null | undefined;
}

/** One call, ready to be gated: who decides, what is asked, and the body to run on ALLOW. */
export interface GatedInvocation {
  readonly gateway: GateDecider;
  readonly call: GateCall;
  readonly raiseOnBlock: boolean;
  /**
   * Reads the audit parameters again from the live arguments, right before
   * the body runs; without it, `call.parameters` is read again.
   */
  readonly readParameters?: () => unknown;
  readonly body: () => unknown;
}

/**
 * Gates, then runs the body and resolves to its value, which becomes the
 * result's `toolResult` (the same object the session recorded). Only an
 * ALLOW result reaches the body; with `raiseOnBlock: false` a block
 * resolves to `undefined` instead of rejecting.
 */
export async function gatePromise(invocation: GatedInvocation): Promise<unknown> {
  let result: ExecutionResult;
  try {
    result = await invocation.gateway.decideCall(invocation.call);
  } catch (error) {
    if (!invocation.raiseOnBlock && error instanceof PolicyBlockedError) return undefined;
    throw error;
  }
  assertAllowed(result, invocation.call.action);
  const changed = changedArguments(invocation);
  if (changed !== null) {
    throw await invocation.gateway.refuseChangedArguments(invocation.call, result, changed);
  }
  const value = await invocation.body();
  result.toolResult = value;
  return value;
}

/**
 * decide$ only ever ends on an ALLOW; this is the last line of defence should
 * that change: a body is never reached by anything but an explicit ALLOW.
 */
function assertAllowed(result: ExecutionResult | undefined, action: string): void {
  if (result?.allowed !== true) {
    throw new ProvenanceError(
      `nestjs-provenance: '${action}' reached its body without an ALLOW decision ` +
        `(got ${String(result?.decision)}); the body did not run.`,
    );
  }
}

/**
 * The same for a method that returns an Observable: cold, gated when
 * subscribed, then the body's values; `toolResult` is the last of them.
 * Unsubscribing while the gateway decides abandons the call. `prepare` runs
 * now, at call time (finding the gateway, reading the arguments); its error
 * is delivered to the subscriber. The session current at call time is the one
 * the call belongs to, even if the subscriber subscribes from elsewhere.
 */
export function gateObservable(prepare: () => GatedInvocation): Observable<unknown> {
  let invocation: GatedInvocation;
  try {
    invocation = prepare();
  } catch (error) {
    return throwError(() => error);
  }
  const callStore = SessionContext.current();
  const pipeline = invocation.gateway.decide$(invocation.call).pipe(
    filter((result) => !result.escalated),
    // Only the decision's own block is swallowed; a block raised by the body
    // (a nested guarded call) belongs to the body and is passed on.
    catchError((error: unknown) =>
      !invocation.raiseOnBlock && error instanceof PolicyBlockedError
        ? EMPTY
        : throwError(() => error),
    ),
    switchMap((result) => {
      assertAllowed(result, invocation.call.action);
      const changed = changedArguments(invocation);
      if (changed !== null) {
        return from(
          invocation.gateway.refuseChangedArguments(invocation.call, result, changed),
        ).pipe(switchMap((error) => throwError(() => error)));
      }
      return asObservable(invocation.body()).pipe(
        tap((value) => {
          result.toolResult = value;
        }),
      );
    }),
  );
  return new Observable<unknown>((subscriber) => {
    const start = () => pipeline.subscribe(subscriber);
    return callStore && SessionContext.current() !== callStore
      ? SessionContext.run(callStore, start)
      : start();
  });
}

function asObservable(value: unknown): Observable<unknown> {
  if (isObservable(value)) return value;
  if (isPromiseLike(value)) return from(value);
  return of(value);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
