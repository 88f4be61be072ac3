import type { AuditVerification, AuditViolation } from '../../engine/audit/audit-chain';
import {
  computeEventHash,
  type AuditEvent,
  type AuditEventKind,
} from '../../engine/audit/audit-event';
import { isAuditEventShape } from '../../engine/audit/audit-event.shape';
import { AUDIT_QUERY_PARAMS, type AuditQuery } from '../../engine/audit/audit-query';
import type { CheckpointSummary } from '../../engine/audit/audit-verification';
import { asObject, preview, WireFormatError } from '../../protocol/wire';

/*
 * The gateway server's audit API (lib/server/audit-wire.ts writes it) read
 * back into the embedded shapes: snake_case members to the camelCase ones of
 * AuditEvent and AuditVerification, checked, never filled with defaults.
 */

/** An AuditQuery as the query string the server reads (dates as ISO text). */
export function toWireAuditQuery(query: AuditQuery): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  for (const member of Object.keys(AUDIT_QUERY_PARAMS) as Array<keyof AuditQuery>) {
    const value = query[member];
    if (value === undefined) continue;
    params[AUDIT_QUERY_PARAMS[member]] =
      value instanceof Date ? value.toISOString() : (value as string | number);
  }
  return params;
}

/** `{"tenant_id": …, "events": […]}` (the tenant id only on `GET /v1/audit`). */
export function fromWireAuditListing(body: unknown): {
  tenantId: string | null;
  events: AuditEvent[];
} {
  const object = asObject(body, 'the audit listing');
  if (!Array.isArray(object.events)) {
    throw new WireFormatError(`the audit listing has no \`events\` array: ${preview(body)}`);
  }
  const tenantId = object.tenant_id;
  if (tenantId !== undefined && typeof tenantId !== 'string') {
    throw new WireFormatError(`\`tenant_id\` is not a string: ${preview(tenantId)}`);
  }
  return { tenantId: tenantId ?? null, events: object.events.map(fromWireAuditEvent) };
}

/** `{"count": n}` */
export function fromWireAuditCount(body: unknown): number {
  const count = asObject(body, 'the audit count').count;
  if (!Number.isSafeInteger(count) || (count as number) < 0) {
    throw new WireFormatError(`the audit count is not a count: ${preview(count)}`);
  }
  return count as number;
}

/**
 * One listed event, with its members in the order the engine creates them.
 * The wire says
 * `approver_reason: null` both for an event without one and for one whose
 * reason is null; the event's own hash tells which it was.
 */
export function fromWireAuditEvent(item: unknown, index: number): AuditEvent {
  const e = asObject(item, `audit event ${index}`);
  const event: Record<string, unknown> = {
    id: e.id,
    timestamp: e.timestamp,
    tenantId: e.tenant_id,
    sessionId: e.session_id,
    agentId: e.agent_id,
    action: e.action,
    parameters: e.parameters,
    payloadHash: e.payload_hash,
    decision: e.decision,
    reason: e.reason,
    escalationId: e.escalation_id,
    actorHumanId: e.actor_human_id,
    kind: e.kind as AuditEventKind,
  };
  if (e.approver_reason !== undefined && e.approver_reason !== null) {
    event.approverReason = e.approver_reason;
  }
  // `policy_hash: null`: an event no policy decided (or written before events named their policy).
  if (e.policy_hash !== undefined && e.policy_hash !== null) {
    event.policyHash = e.policy_hash;
    event.policyVersion = e.policy_version ?? null;
  }
  event.position = e.position;
  event.prevHash = e.prev_hash;
  event.hash = e.hash;
  if (!isAuditEventShape(event)) {
    throw new WireFormatError(`audit event ${index} is not an audit event: ${preview(item)}`);
  }
  if (e.approver_reason === null && computeEventHash(event) !== event.hash) {
    const withNull = withApproverReasonNull(event);
    if (computeEventHash(withNull) === event.hash) return withNull;
  }
  return event;
}

/** The event with `approverReason: null` in its place (after `kind`, before the policy pair). */
function withApproverReasonNull(event: AuditEvent): AuditEvent {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    copy[key] = value;
    if (key === 'kind') copy.approverReason = null;
  }
  return copy as unknown as AuditEvent;
}

/** `{"integrity": {…}}` of `GET /v1/audit/integrity/{tenant}`. */
export function fromWireIntegrity(body: unknown): AuditVerification {
  const i = asObject(asObject(body, 'the integrity answer').integrity, '`integrity`');
  if (typeof i.valid !== 'boolean' || !Number.isSafeInteger(i.events_checked)) {
    throw new WireFormatError(`\`integrity\` has no \`valid\` / \`events_checked\`: ${preview(i)}`);
  }
  if (!Array.isArray(i.violations)) {
    throw new WireFormatError(`\`integrity\` has no \`violations\` array: ${preview(i)}`);
  }
  const verification: AuditVerification = {
    valid: i.valid,
    eventsChecked: i.events_checked as number,
    firstBrokenPosition: nullableInteger(i.first_broken_position, 'first_broken_position'),
    violations: i.violations.map(fromWireViolation),
    anchor: i.anchor === null || i.anchor === undefined ? null : anchorOf(i.anchor),
  };
  if (i.checkpoints !== undefined && i.checkpoints !== null) {
    verification.checkpoints = fromWireCheckpoints(i.checkpoints);
  }
  return verification;
}

function fromWireViolation(item: unknown, index: number): AuditViolation {
  const v = asObject(item, `violation ${index}`);
  if (!Number.isSafeInteger(v.position) || typeof v.problem !== 'string') {
    throw new WireFormatError(`violation ${index} has no position / problem: ${preview(item)}`);
  }
  return {
    position: v.position as number,
    eventId: typeof v.event_id === 'string' ? v.event_id : null,
    problem: v.problem as AuditViolation['problem'],
    message: typeof v.message === 'string' ? v.message : v.problem,
    expected: scalar(v.expected),
    actual: scalar(v.actual),
  };
}

function fromWireCheckpoints(item: unknown): CheckpointSummary {
  const c = asObject(item, '`checkpoints`');
  const keyIds = c.key_ids;
  if (
    !Number.isSafeInteger(c.found) ||
    !Number.isSafeInteger(c.verified) ||
    !Number.isSafeInteger(c.unsigned_events) ||
    !Array.isArray(keyIds) ||
    !keyIds.every((id) => typeof id === 'string')
  ) {
    throw new WireFormatError(`\`checkpoints\` is not a checkpoint summary: ${preview(item)}`);
  }
  return {
    found: c.found as number,
    verified: c.verified as number,
    signedThrough: nullableInteger(c.signed_through, 'signed_through'),
    unsignedEvents: c.unsigned_events as number,
    lastReason: typeof c.last_reason === 'string' ? c.last_reason : null,
    keyIds: keyIds as string[],
  };
}

function anchorOf(item: unknown): { position: number; hash: string } {
  const a = asObject(item, '`anchor`');
  if (!Number.isSafeInteger(a.position) || typeof a.hash !== 'string') {
    throw new WireFormatError(`\`anchor\` has no position / hash: ${preview(item)}`);
  }
  return { position: a.position as number, hash: a.hash };
}

function nullableInteger(value: unknown, name: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isSafeInteger(value)) {
    throw new WireFormatError(`\`${name}\` is not an integer: ${preview(value)}`);
  }
  return value as number;
}

function scalar(value: unknown): string | number | null {
  return typeof value === 'string' || typeof value === 'number' ? value : null;
}
