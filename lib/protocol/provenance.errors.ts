import type { ExecutionResult } from './execution-result';

/** The base of every error this library raises, as in the Python SDK. */
export class ProvenanceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The engine is closed (its process is shutting down): the call was not
 * decided. The one refusal a gateway server answers with 503.
 */
export class GatewayClosedError extends ProvenanceError {}

/** The policy said BLOCK, or a human rejected the escalation. */
export class PolicyBlockedError extends ProvenanceError {
  readonly action: string;
  readonly reason: string;
  readonly eventId: string | null;
  readonly escalationId: string | null;
  readonly actorHumanId: string | null;
  /** A rejecting reviewer's own reason (the policy's reason is `reason`); null otherwise. */
  readonly approverReason: string | null;
  /** The BLOCK result, as a session records it. */
  readonly result: ExecutionResult;

  constructor(result: ExecutionResult, message?: string) {
    super(message ?? `Action '${result.action}' blocked by policy: ${result.reason}`);
    this.action = result.action;
    this.reason = result.reason;
    this.eventId = result.eventId;
    this.escalationId = result.escalationId;
    this.actorHumanId = result.actorHumanId;
    this.approverReason = result.approverReason;
    this.result = result;
  }
}

/**
 * A human rejected the escalation. A `PolicyBlockedError`, so code written for
 * the Python SDK's contract (rejection raises PolicyBlockedError) still catches it.
 */
export class EscalationRejectedError extends PolicyBlockedError {
  constructor(result: ExecutionResult) {
    super(
      result,
      `Escalation ${result.escalationId ?? ''} of '${result.action}' was rejected: ${result.reason}` +
        (result.approverReason ? ` (${result.approverReason})` : ''),
    );
  }
}

/** The escalation hold expired with no human decision. */
export class EscalationTimeoutError extends ProvenanceError {
  readonly action: string;
  readonly escalationId: string | null;
  readonly eventId: string | null;
  readonly reason: string;
  readonly result: ExecutionResult;

  constructor(result: ExecutionResult) {
    super(
      `Escalation ${result.escalationId ?? ''} of '${result.action}' expired with no human decision: ${result.reason}`,
    );
    this.action = result.action;
    this.escalationId = result.escalationId;
    this.eventId = result.eventId;
    this.reason = result.reason;
    this.result = result;
  }
}

/**
 * An escalation is in a state the caller cannot act on: still in progress when
 * a final answer was expected, unknown, or already resolved.
 */
export class EscalationError extends ProvenanceError {
  readonly action: string | null;
  readonly escalationId: string | null;

  constructor(message: string, details: { action?: string | null; escalationId?: string | null }) {
    super(message);
    this.action = details.action ?? null;
    this.escalationId = details.escalationId ?? null;
  }
}

/** A review decision named an escalation that does not exist or has already ended. */
export class EscalationNotFoundError extends EscalationError {
  constructor(escalationId: string, message?: string) {
    super(
      message ?? `No pending escalation with id '${escalationId}' (unknown, or already resolved)`,
      {
        escalationId,
      },
    );
  }
}

/**
 * A review decision the reviewer may not make: the approver is the agent whose
 * call it is (four eyes), or the credential's principal differs from the
 * approver named. Nothing was decided.
 */
export class ApprovalForbiddenError extends EscalationError {
  readonly approverId: string;

  constructor(escalationId: string | null, approverId: string, message: string) {
    super(message, { escalationId });
    this.approverId = approverId;
  }
}

/**
 * The gateway holds as many escalations as it may (`maxPendingEscalations`):
 * the call is refused (never allowed) until some are decided.
 */
export class EscalationLimitError extends EscalationError {
  readonly limit: number;

  constructor(action: string, limit: number, message: string) {
    super(message, { action });
    this.limit = limit;
  }
}

/**
 * The arguments a guarded body was about to run with are not the ones that
 * were decided (they were changed while a human looked, or a getter answers
 * differently the second time). The body did not run.
 */
export class ArgumentsChangedError extends ProvenanceError {
  readonly action: string;
  /** The decision's result (ALLOW) that no longer applies. */
  readonly result: ExecutionResult;
  /** sha256 of the canonical parameters that were decided, and of those found now. */
  readonly decidedHash: string;
  readonly currentHash: string;

  constructor(result: ExecutionResult, decidedHash: string, currentHash: string, message: string) {
    super(message);
    this.action = result.action;
    this.result = result;
    this.decidedHash = decidedHash;
    this.currentHash = currentHash;
  }
}

/**
 * A review call (approve, reject, grant, revokeGrant) was given an input it
 * cannot act on: no approver (`approverId`, `grantedBy`, `revokedBy`), no
 * escalation id, a reason that is not text. Raised before anything is sent or
 * decided. `field` names the input at fault.
 */
export class ReviewInputError extends ProvenanceError {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** A grant id that is unknown, revoked, used up or expired. */
export class GrantNotFoundError extends ProvenanceError {
  readonly grantId: string;

  constructor(grantId: string, message: string) {
    super(message);
    this.grantId = grantId;
  }
}

/**
 * How a gateway call failed:
 * - `unreachable`: no answer came back because the connection failed (refused, reset, DNS);
 * - `status`: the gateway answered with an HTTP error status (see `status`);
 * - `timeout`: the gateway took longer than the `timeout` option;
 * - `protocol`: the gateway answered something that is not the wire format
 *   (bad JSON, missing or unknown `decision`, wrong content type, a redirect);
 * - `interrupted`: the connection broke after the request was sent (reset,
 *   hang-up) before an answer: the gateway may have recorded the call, or be
 *   holding it for a human;
 * - `internal`: the embedded gateway could not decide or record (the audit
 *   log could not be written, the gateway is closed).
 * Only `unreachable` and a 503 `status` may fail open: a timeout may hide a
 * call that was recorded or held for a human, and an embedded failure means
 * the audit trail would be incomplete.
 */
export type GatewayErrorKind =
  'unreachable' | 'status' | 'timeout' | 'protocol' | 'interrupted' | 'internal';

/** The gateway could not give a decision. Never contains the API key. */
export class GatewayError extends ProvenanceError {
  readonly url: string;
  readonly kind: GatewayErrorKind;
  readonly status: number | null;
  override readonly cause: unknown;

  constructor(
    message: string,
    details: { url: string; kind: GatewayErrorKind; status?: number | null; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
    this.url = details.url;
    this.kind = details.kind;
    this.status = details.status ?? null;
    this.cause = details.cause;
  }

  /** docs/protocol.md, "Fail-open": only a failure that says the gateway never decided may let a call through. */
  get failOpenEligible(): boolean {
    // A 502 or 504 may come from a proxy in front of a gateway that still
    // holds the call for a human; a 500 may follow a recorded decision. Only
    // a 503 says the gateway did not take the call.
    return this.kind === 'unreachable' || (this.kind === 'status' && this.status === 503);
  }
}

/** An option is missing or invalid. `option` names it as the user wrote it. */
export class ProvenanceConfigError extends ProvenanceError {
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.option = option;
  }
}

/**
 * A call's parameters (or any value given to canonicalJson) cannot be sent or
 * hashed: circular, a BigInt, too deep, too large, ... Raised before anything
 * is sent, decided or recorded. `path` names the offending value the way a
 * reader finds it (`$.items[3].amount`); `action` is the call's, or '' for a
 * value that is not a call's parameters (canonicalJson).
 *
 * Since 0.2 this is also what the engine's deprecated `CanonicalJsonError`
 * names (the same class), which is why the 0.1 constructor of that class,
 * `(path, message)`, still works.
 */
export class InvalidParametersError extends ProvenanceError {
  readonly action: string;
  readonly path: string;

  constructor(action: string, path: string, message: string);
  /** @deprecated since 0.2: `CanonicalJsonError`'s `(path, message)`; pass the action first. */
  constructor(path: string, message: string);
  constructor(...args: [string, string, string] | [string, string]) {
    super(args.length === 2 ? args[1] : args[2]);
    this.action = args.length === 2 ? '' : args[0];
    this.path = args.length === 2 ? args[0] : args[1];
  }
}
