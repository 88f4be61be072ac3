import { isValidAction } from '../protocol/action';
import { Decision, isDecision } from '../protocol/decision';
import type { GatewayRequest } from '../protocol/gateway.types';
import { normalizeParameters } from '../protocol/call-parameters';
import { ProvenanceConfigError, ProvenanceError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { isValidSessionId } from '../protocol/session-id';
import type { ExecuteOptions, ProvenanceSession } from '../session/provenance.session';
import { SessionContext } from '../session/session.context';

/** One call to gate: what `execute()`, a session handle and `@Guarded` all hand to `decide$`. */
export interface GateCall {
  action: string;
  parameters: unknown;
  options?: ExecuteOptions;
  /**
   * `executeDeferred`: a held call is detached rather than waited for, and
   * resolves with its ESCALATE result (GatewayTransport, "A deferred call").
   */
  deferred?: boolean;
  /** Record into this session and use its id (a session handle's own calls). */
  session?: ProvenanceSession;
  /**
   * The ALLOW may be carried into the body of the tool it lets run
   * (`runAllowedTool`, lib/call/decided-call.ts): a guarded method that body
   * calls with the same action and arguments reuses it once. Every adapter
   * asks for it; a call that does not (execute(), @Guarded) keeps nothing of
   * its request on its result.
   */
  carryDecision?: boolean;
  /**
   * @internal Set by the decision path: the request as it was sent, so that
   * the gate can check the body's arguments against what was decided.
   */
  sent?: GatewayRequest;
}

/** The options of `executeDeferred`: those of `execute` but `idempotencyKey` (refused at runtime too). */
export type DeferredExecuteOptions = Omit<ExecuteOptions, 'idempotencyKey'>;

/** What a call is sent with: the gateway service's settings. */
export interface CallDefaults {
  agentId: string;
  defaultSession: string;
  tenantPolicyId: string | null;
  maxParametersBytes: number;
}

/** A checked call: the request to send, and the session its result is recorded in. */
export interface PreparedCall {
  request: GatewayRequest;
  session: ProvenanceSession | undefined;
  /** GateCall.carryDecision. */
  carryDecision: boolean;
}

/**
 * Checks a call and builds its request; throws before anything is sent.
 * Session precedence: an explicit `sessionId` > the session handle > the
 * current session > `defaultSession`. The result is recorded in the session
 * whose id the request carries, if there is one in this process.
 */
export function prepareCall(call: GateCall, defaults: CallDefaults): PreparedCall {
  const { action } = call;
  if (!isValidAction(action)) throw new ProvenanceError(Messages.badAction(action));
  const options = call.options ?? {};
  const explicit = options.sessionId;
  if (explicit !== undefined && !isValidSessionId(explicit)) {
    throw new ProvenanceConfigError('sessionId', Messages.badSessionId('sessionId', explicit));
  }
  if (options.decision !== undefined && !isDecision(options.decision)) {
    throw new ProvenanceConfigError(
      'decision',
      Messages.badOption('decision', 'ALLOW, BLOCK or ESCALATE', options.decision),
    );
  }
  if (call.deferred === true && options.idempotencyKey !== undefined) {
    // A deferred call is retried by design; a key would answer the retry with the ESCALATE.
    throw new ProvenanceConfigError('idempotencyKey', Messages.deferredIdempotencyKey());
  }
  if (options.idempotencyKey !== undefined && typeof options.idempotencyKey !== 'string') {
    throw new ProvenanceConfigError(
      'idempotencyKey',
      Messages.badOption('idempotencyKey', 'a string', options.idempotencyKey),
    );
  }
  const parameters = normalizeParameters(action, call.parameters, defaults.maxParametersBytes);

  const current = SessionContext.current()?.session;
  let session: ProvenanceSession | undefined;
  if (call.session) session = call.session;
  else if (explicit === undefined) session = current;
  else if (current?.id === explicit) session = current;

  const request: GatewayRequest = {
    sessionId: explicit ?? session?.id ?? defaults.defaultSession,
    agentId: defaults.agentId,
    action,
    parameters,
    decision: options.decision ?? Decision.BLOCK,
    tenantPolicyId: defaults.tenantPolicyId,
    idempotencyKey: options.idempotencyKey ?? null,
  };
  return { request, session, carryDecision: call.carryDecision === true };
}
