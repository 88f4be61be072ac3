import { AsyncLocalStorage } from 'node:async_hooks';
import { canonicalJson, sha256Hex } from '../protocol/canonical-json';
import { parametersTextOf } from '../protocol/canonical-stamp';
import type { ExecutionResult } from '../protocol/execution-result';
import type { GatewayRequest } from '../protocol/gateway.types';
import { Passthrough } from '../protocol/passthrough';

/**
 * A call the gateway already decided, and ALLOWed, while its body runs: an
 * adapter's tool whose body calls a `@Guarded` method with the same action
 * and arguments is decided once, not twice.
 *
 * Only an ALLOW that the decision path itself produced, for a call that asked
 * to carry it (GateCall.carryDecision: the adapters' calls), can be carried:
 * it is remembered here by the decision path, keyed by the result object, so
 * an ExecutionResult made by hand carries nothing, and neither does the
 * result of execute() or of a @Guarded method (a session keeps every result
 * it records: none of them keeps its request alive for this). It is reused
 * at most once, by the same gateway, for the same action, session, agent,
 * tenant policy and normalised parameters (payload hash), and only while the
 * one body that took it runs (the result lets go of it when that body
 * starts): once the body returned (or threw), a call made later (a timer it
 * started, a promise it left behind), or another body run with the same
 * result, is decided normally.
 */
interface DecidedEntry {
  /** The gateway's decision context that decided it: another gateway never reuses it. */
  readonly owner: object;
  readonly request: GatewayRequest;
}

interface DecidedScope {
  readonly result: ExecutionResult;
  readonly entry: DecidedEntry;
  /** False once the body settled or the ALLOW was reused. */
  open: boolean;
}

/**
 * The entry a decided ALLOW carries, as a private field on the result: only
 * this class can add or read it (a result made by hand, or copied, has none),
 * and it is invisible to Object.keys, JSON and structuredClone. A private
 * field rather than a WeakMap: no ephemeron for the garbage collector to
 * trace for every adapter's ALLOW (as CanonicalStamp does for canonical texts).
 */
class DecidedMark extends Passthrough {
  #entry: DecidedEntry | undefined;

  private constructor(result: ExecutionResult, entry: DecidedEntry) {
    super(result);
    this.#entry = entry;
  }

  static mark(result: ExecutionResult, entry: DecidedEntry): void {
    if (#entry in result) (result as unknown as DecidedMark).#entry = entry;
    else new DecidedMark(result, entry);
  }

  /**
   * The entry, taken off the result: one body runs under it, and the result
   * (which a session may keep for long) no longer holds the request.
   */
  static take(result: ExecutionResult): DecidedEntry | undefined {
    if (!(#entry in result)) return undefined;
    const mark = result as unknown as DecidedMark;
    const entry = mark.#entry;
    mark.#entry = undefined;
    return entry;
  }
}

const storage = new AsyncLocalStorage<DecidedScope>();

/** The decision path: this explicit ALLOW was decided for exactly `request`. */
export function rememberDecidedCall(
  owner: object,
  request: GatewayRequest,
  result: ExecutionResult,
): void {
  if (!result.allowed || result.failedOpen || result.eventId === null) return;
  DecidedMark.mark(result, { owner, request });
}

/**
 * Runs `body` with the ALLOW it got in scope. A result the decision path did
 * not remember, or whose ALLOW a body already took, runs the body with no
 * scope (its guarded calls are decided).
 */
export function runAsDecidedCall<T>(result: ExecutionResult, body: () => T): T {
  const entry = DecidedMark.take(result);
  if (entry === undefined) return storage.exit(body);
  const scope: DecidedScope = { result, entry, open: true };
  const close = () => {
    scope.open = false;
  };
  let value: T;
  try {
    value = storage.run(scope, body);
  } catch (error) {
    close();
    throw error;
  }
  if (isThenable(value)) value.then(close, close);
  else close();
  return value;
}

/**
 * The decision path, before it asks its transport: the ALLOW in scope, when
 * it was decided by `owner` for this very request (and not yet reused);
 * null otherwise. Claiming it closes the scope.
 */
export function claimDecidedCall(owner: object, request: GatewayRequest): ExecutionResult | null {
  const scope = storage.getStore();
  if (scope === undefined || !scope.open) return null;
  const { entry } = scope;
  const decidedRequest = entry.request;
  if (
    entry.owner !== owner ||
    decidedRequest.action !== request.action ||
    decidedRequest.sessionId !== request.sessionId ||
    decidedRequest.agentId !== request.agentId ||
    decidedRequest.tenantPolicyId !== request.tenantPolicyId ||
    payloadHashOf(decidedRequest) !== payloadHashOf(request)
  ) {
    return null;
  }
  scope.open = false;
  return scope.result;
}

/**
 * The payload hash of a request's normalised parameters: from their
 * remembered canonical text, or (once the audit log let go of it) written
 * again by the same walker.
 */
function payloadHashOf(request: GatewayRequest): string {
  const { parameters } = request;
  return sha256Hex(parametersTextOf(parameters) ?? canonicalJson(parameters));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
