import { isDecision } from './decision';
import type {
  EscalationOutcome,
  EscalationRecord,
  EscalationStatus,
  GatewayRequest,
  GatewayResponse,
  ReviewOutcome,
  ReviewVerdict,
} from './gateway.types';

/*
 * The wire format of docs/protocol.md (snake_case JSON) and its mapping to the
 * camelCase types of the transport seam. Pure functions, no I/O: both the HTTP
 * transport and our own server use them, so the two cannot drift apart.
 * Parsers throw `WireFormatError`; the caller decides what that means
 * (the transport: a `protocol` GatewayError; a server: a 4xx).
 */

/** The body of `POST /v1/gateway/execute`. */
export interface WireExecuteRequest {
  session_id: string;
  agent_id: string;
  action: string;
  parameters: Record<string, unknown> | null;
  decision: string;
  tenant_policy_id?: string | null;
  idempotency_key?: string | null;
}

/** The 200 body of `POST /v1/gateway/execute` (and of our `/wait`). */
export interface WireExecuteResponse {
  event_id: string | null;
  decision: string;
  reason: string;
  escalation_id: string | null;
  actor_human_id: string | null;
  /** Ours: the reviewer's own reason with an approval or rejection; absent otherwise. */
  approver_reason?: string | null;
}

/**
 * The 202 body of `POST /v1/gateway/execute` under the async escalation
 * extension (ours, docs/protocol.md "Async escalation"): the request carried `Prefer: respond-async` and
 * the policy said ESCALATE. The client then long-polls
 * `GET /v1/escalations/{escalation_id}/wait?timeout_ms=N` (200: a
 * `WireExecuteResponse`; 204: not decided yet, poll again).
 * Only `escalation_id` and `status` are required.
 */
export interface WireEscalationAccepted {
  escalation_id: string;
  status: 'PENDING';
  action?: string;
  /** Why the policy escalated (the rule's reason). */
  reason?: string;
  /** ISO 8601. */
  created_at?: string;
  /** ISO 8601: when the hold expires with no human decision. */
  expires_at?: string | null;
}

/** One item of `{"escalations": [...]}` from `GET /v1/escalations/pending`. */
export interface WireEscalationRecord {
  id: string;
  tenant_id: string | null;
  agent_id: string;
  action: string;
  parameters_hash: string | null;
  status: EscalationStatus;
  approver_id: string | null;
  decided_at: string | null;
  reason: string | null;
  created_at: string;
  updated_at: string;
  /** Ours only; a reference server does not send them. */
  session_id?: string | null;
  parameters?: Record<string, unknown> | null;
}

/** The body of `POST /v1/escalations/{id}/decide`. */
export interface WireDecideRequest {
  decision: ReviewVerdict;
  approver_id: string;
  reason: string | null;
}

/** The 200 body of `POST /v1/escalations/{id}/decide`. */
export interface WireDecideResponse {
  escalation_id: string;
  decision: ReviewVerdict;
  approver_id: string;
  reason: string | null;
}

/** A body that is not the wire format. The message names the field, never a header. */
export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

/** A reference server tells a timed-out escalation from a rejected one only by this text. */
const TIMEOUT_REASON = /Escalation TIMEOUT/i;
/** Ours: a hold its caller withdrew. */
const WITHDRAWN_REASON = /^Escalation WITHDRAWN/;

const STATUSES: ReadonlySet<string> = new Set([
  'PENDING',
  'APPROVED',
  'REJECTED',
  'TIMEOUT',
  'WITHDRAWN',
]);

/** Optional fields are left out rather than sent as null, as the Python SDK does. */
export function toWireRequest(request: GatewayRequest): WireExecuteRequest {
  const body: WireExecuteRequest = {
    session_id: request.sessionId,
    agent_id: request.agentId,
    action: request.action,
    parameters: request.parameters ?? null,
    decision: request.decision,
  };
  if (request.tenantPolicyId != null) body.tenant_policy_id = request.tenantPolicyId;
  if (request.idempotencyKey != null) body.idempotency_key = request.idempotencyKey;
  return body;
}

/**
 * Validates a 200 execute body. Anything but the exact words ALLOW, BLOCK or
 * ESCALATE is an error, never a default: an unknown answer must not let a call through.
 */
export function fromWireResponse(body: unknown): GatewayResponse {
  const object = asObject(body, 'the execute response');
  const decision = object.decision;
  if (decision === undefined) throw new WireFormatError('the execute response has no `decision`');
  if (!isDecision(decision)) {
    throw new WireFormatError(
      `the execute response has an unknown \`decision\`: ${preview(decision)}`,
    );
  }
  if (!('reason' in object)) throw new WireFormatError('the execute response has no `reason`');
  const reason = object.reason === null ? '' : object.reason;
  if (typeof reason !== 'string') {
    throw new WireFormatError(
      `the execute response's \`reason\` is not a string: ${preview(reason)}`,
    );
  }
  const eventId = optionalString(object, 'event_id');
  const escalationId = optionalString(object, 'escalation_id');
  const actorHumanId = optionalString(object, 'actor_human_id');
  const approverReason = optionalString(object, 'approver_reason');
  return {
    eventId,
    decision,
    reason,
    escalationId,
    actorHumanId,
    approverReason,
    escalationOutcome: escalationOutcomeOf(decision, reason, escalationId),
  };
}

/**
 * The inverse of `fromWireResponse`, for servers. `ours`: the client spoke
 * our extension (a `/wait`, or `Prefer: respond-async`), so the answer may
 * carry our extra field `approver_reason`; otherwise it is exactly the
 * reference server's shape.
 */
export function toWireResponse(response: GatewayResponse, ours = true): WireExecuteResponse {
  return {
    event_id: response.eventId,
    decision: response.decision,
    reason: response.reason,
    escalation_id: response.escalationId,
    actor_human_id: response.actorHumanId,
    ...(ours && response.approverReason != null
      ? { approver_reason: response.approverReason }
      : {}),
  };
}

export function fromWireEscalationAccepted(body: unknown): WireEscalationAccepted {
  const object = asObject(body, 'the 202 escalation answer');
  const id = object.escalation_id;
  if (typeof id !== 'string' || id === '') {
    throw new WireFormatError('the 202 escalation answer has no `escalation_id`');
  }
  if (object.status !== 'PENDING') {
    throw new WireFormatError(
      `the 202 escalation answer's \`status\` is not PENDING: ${preview(object.status)}`,
    );
  }
  const accepted: WireEscalationAccepted = { escalation_id: id, status: 'PENDING' };
  for (const key of ['action', 'reason', 'created_at'] as const) {
    const value = optionalString(object, key);
    if (value !== null) accepted[key] = value;
  }
  accepted.expires_at = optionalString(object, 'expires_at');
  return accepted;
}

export function fromWireEscalationList(body: unknown): EscalationRecord[] {
  const object = asObject(body, 'the pending escalations answer');
  if (!Array.isArray(object.escalations)) {
    throw new WireFormatError('the pending escalations answer has no `escalations` array');
  }
  return object.escalations.map((item, index) => fromWireEscalationRecord(item, index));
}

export function toWireEscalationRecord(record: EscalationRecord): WireEscalationRecord {
  const wire: WireEscalationRecord = {
    id: record.id,
    tenant_id: record.tenantId,
    agent_id: record.agentId,
    action: record.action,
    parameters_hash: record.parametersHash,
    status: record.status,
    approver_id: record.approverId,
    decided_at: record.decidedAt,
    reason: record.reason,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
  if (record.sessionId !== undefined) wire.session_id = record.sessionId;
  if (record.parameters !== undefined) wire.parameters = record.parameters;
  return wire;
}

function fromWireEscalationRecord(item: unknown, index: number): EscalationRecord {
  const where = `escalations[${index}]`;
  const object = asObject(item, where);
  const status = object.status;
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    throw new WireFormatError(`${where} has an unknown \`status\`: ${preview(status)}`);
  }
  const record: EscalationRecord = {
    id: requiredString(object, 'id', where),
    tenantId: optionalString(object, 'tenant_id'),
    agentId: requiredString(object, 'agent_id', where),
    action: requiredString(object, 'action', where),
    parametersHash: optionalString(object, 'parameters_hash'),
    status: status as EscalationStatus,
    approverId: optionalString(object, 'approver_id'),
    decidedAt: optionalString(object, 'decided_at'),
    reason: optionalString(object, 'reason'),
    createdAt: requiredString(object, 'created_at', where),
    updatedAt: optionalString(object, 'updated_at') ?? requiredString(object, 'created_at', where),
  };
  if ('session_id' in object) record.sessionId = optionalString(object, 'session_id');
  if ('parameters' in object) {
    const parameters = object.parameters;
    if (parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters))) {
      throw new WireFormatError(`${where}.parameters is not an object`);
    }
    record.parameters = parameters as Record<string, unknown> | null;
  }
  return record;
}

export function toWireDecideRequest(
  verdict: ReviewVerdict,
  approverId: string,
  reason?: string | null,
): WireDecideRequest {
  return { decision: verdict, approver_id: approverId, reason: reason ?? null };
}

export function fromWireDecideResponse(
  body: unknown,
  expected: { escalationId: string; verdict: ReviewVerdict },
): ReviewOutcome {
  const object = asObject(body, 'the decide answer');
  const decision = object.decision ?? expected.verdict;
  if (decision !== 'APPROVE' && decision !== 'REJECT') {
    throw new WireFormatError(
      `the decide answer has an unknown \`decision\`: ${preview(decision)}`,
    );
  }
  if (decision !== expected.verdict) {
    throw new WireFormatError(
      `the decide answer says ${decision}, but ${expected.verdict} was sent`,
    );
  }
  return {
    escalationId: optionalString(object, 'escalation_id') ?? expected.escalationId,
    decision,
    approverId: requiredString(object, 'approver_id', 'the decide answer'),
    reason: optionalString(object, 'reason'),
  };
}

/** How an escalated call ended, as far as a reference server's answer tells. */
export function escalationOutcomeOf(
  decision: string,
  reason: string,
  escalationId: string | null,
): EscalationOutcome | null {
  if (escalationId === null) return null;
  if (decision === 'ALLOW') return 'approved';
  if (decision === 'BLOCK') {
    if (WITHDRAWN_REASON.test(reason)) return 'withdrawn';
    return TIMEOUT_REASON.test(reason) ? 'expired' : 'rejected';
  }
  return null;
}

export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WireFormatError(
      `${what} is not a JSON object (got ${Array.isArray(body) ? 'an array' : preview(body)})`,
    );
  }
  return body as Record<string, unknown>;
}

export function optionalString(object: Record<string, unknown>, key: string): string | null {
  const value = object[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string')
    throw new WireFormatError(`\`${key}\` is not a string: ${preview(value)}`);
  return value;
}

export function requiredString(
  object: Record<string, unknown>,
  key: string,
  where: string,
): string {
  const value = object[key];
  if (typeof value !== 'string') throw new WireFormatError(`${where} has no string \`${key}\``);
  return value;
}

/** Enough of an unexpected value to debug with, bounded so a huge body cannot flood a log. */
export function preview(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
