import { canonicalStoredMember } from '../protocol/canonical-json';
import { parametersTextOf, parseCanonical } from '../protocol/canonical-stamp';
import { isAuditEventShape } from '../engine/audit/audit-chain';
import type { AuditEvent } from '../engine/audit/audit-event';
import { CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY } from '../engine/audit/audit-event.text';
import type { StoredRecord } from '../engine/audit/audit-verify-stream';
import { PostgresMessages } from './postgres.messages';

/*
 * One audit event <-> one row of audit_events (migrations.ts v1). Every field
 * is kept as the exact text its hash covers: the parameters as their
 * canonical JSON text (never jsonb, which reorders keys, rewrites numbers and
 * refuses NUL), the timestamp as its ISO string, and approver_reason_set
 * telling an absent approverReason from a null one. policy_hash (v3) is null
 * for an event without the policy pair; policy_version is then null too.
 */

/** The columns of audit_events, in the order of AUDIT_INSERT_ARRAYS (tenant_id first). */
export const AUDIT_COLUMNS =
  'tenant_id, position, id, "timestamp", session_id, agent_id, action, parameters, ' +
  'payload_hash, decision, reason, escalation_id, actor_human_id, approver_reason, ' +
  'approver_reason_set, kind, prev_hash, hash, policy_hash, policy_version';

/** The SQL types of the column arrays `auditRowArrays` gives (every column but tenant_id). */
export const AUDIT_ARRAY_TYPES = [
  'bigint',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'boolean',
  'text',
  'text',
  'text',
  'text',
  'text',
] as const;

/** A row of audit_events as node-postgres returns it (a bigint comes back as a string). */
export interface AuditRow {
  tenant_id: string;
  position: string | number;
  id: string;
  timestamp: string;
  session_id: string;
  agent_id: string;
  action: string;
  parameters: string;
  payload_hash: string;
  decision: string;
  reason: string;
  escalation_id: string | null;
  actor_human_id: string | null;
  approver_reason: string | null;
  approver_reason_set: boolean;
  kind: string;
  prev_hash: string;
  hash: string;
  /** v3; null for an event that names no policy. */
  policy_hash: string | null;
  policy_version: string | null;
}

/** The keys an event may have (those chainEvent makes, with approverReason and the policy); a row has a column for each. */
const EVENT_KEYS: ReadonlySet<string> = new Set(CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY);

/**
 * A NUL character, or a surrogate that is not half of a pair: PostgreSQL text
 * refuses the first and node-postgres would store U+FFFD for the second, so
 * the row would not hold what the hash covers.
 */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The exact text the event's hash covers for its parameters: the text
 * remembered with them (prepareEvent's copy), else their canonical walk as a
 * stored member (what recordText hashes). ASCII only (ensure_ascii).
 */
export function storedParametersText(parameters: Record<string, unknown> | null): string {
  return parametersTextOf(parameters) ?? canonicalStoredMember('parameters', parameters);
}

/**
 * Throws (with the reason) unless a chained event of `tenantId`'s chain can be
 * kept in a row exactly: every field of an event and no other, of the right
 * type, no string PostgreSQL would refuse or change.
 */
export function checkStorable(event: AuditEvent, tenantId: string): void {
  const extra = Object.keys(event).find((key) => !EVENT_KEYS.has(key));
  if (extra !== undefined) throw new Error(PostgresMessages.auditEventExtraField(extra));
  const position = event.position;
  if (!isAuditEventShape(event)) throw new Error(PostgresMessages.auditEventShape(position));
  if (event.tenantId !== tenantId) {
    throw new Error(PostgresMessages.auditEventOtherTenant(event.tenantId, tenantId));
  }
  for (const [name, value] of Object.entries(event)) {
    if (typeof value === 'string' && (value.includes('\u0000') || UNPAIRED_SURROGATE.test(value))) {
      throw new Error(PostgresMessages.auditEventUnstorable(name));
    }
  }
}

/**
 * The events as column arrays for `unnest` (every column but tenant_id, in
 * AUDIT_COLUMNS order): one multi-row INSERT whatever the batch size, with a
 * fixed number of bind parameters.
 */
export function auditRowArrays(events: readonly AuditEvent[]): unknown[][] {
  const columns: unknown[][] = AUDIT_ARRAY_TYPES.map(() => new Array<unknown>(events.length));
  events.forEach((event, index) => {
    const approverSet = event.approverReason !== undefined;
    const values = [
      String(event.position),
      event.id,
      event.timestamp,
      event.sessionId,
      event.agentId,
      event.action,
      storedParametersText(event.parameters),
      event.payloadHash,
      event.decision,
      event.reason,
      event.escalationId,
      event.actorHumanId,
      approverSet ? event.approverReason : null,
      approverSet,
      event.kind,
      event.prevHash,
      event.hash,
      event.policyHash ?? null,
      event.policyHash === undefined ? null : (event.policyVersion ?? null),
    ];
    for (let column = 0; column < values.length; column++) columns[column][index] = values[column];
  });
  return columns;
}

/**
 * A row's fields as an event, keys in the order chainEvent gives them, with
 * `parameters` as given. Not checked.
 */
function rowFields(row: AuditRow, parameters: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    id: row.id,
    timestamp: row.timestamp,
    tenantId: row.tenant_id,
    sessionId: row.session_id,
    agentId: row.agent_id,
    action: row.action,
    parameters,
    payloadHash: row.payload_hash,
    decision: row.decision,
    reason: row.reason,
    escalationId: row.escalation_id,
    actorHumanId: row.actor_human_id,
    kind: row.kind,
  };
  if (row.approver_reason_set) fields.approverReason = row.approver_reason;
  if (row.policy_hash !== null && row.policy_hash !== undefined) {
    fields.policyHash = row.policy_hash;
    fields.policyVersion = row.policy_version;
  }
  fields.position = Number(row.position);
  fields.prevHash = row.prev_hash;
  fields.hash = row.hash;
  return fields;
}

/**
 * A row as verification reads it (StoredRecord): the event it holds, its
 * parameters parsed back and remembered with the row's text exactly as
 * stored (parseCanonical), so the verifier's hash covers the stored bytes
 * of every column: any edit of a row, its parameters text included (even to
 * an equal but non-canonical JSON), is a hash mismatch. Parameters text that
 * is not JSON is a malformed record.
 */
export function storedRecordOf(row: AuditRow): StoredRecord {
  let parameters: unknown;
  try {
    parameters = parseCanonical(row.parameters);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { record: { id: row.id, malformed: PostgresMessages.auditRowParameters(why) } };
  }
  return { record: rowFields(row, parameters) };
}

/**
 * A row as an event for `list`/`count`/`readEvents` (parameters parsed back,
 * as the file store reads a line), or null when the row is not a well-formed
 * event (it is skipped there, and reported by verify).
 */
export function eventOfRow(row: AuditRow): AuditEvent | null {
  let parameters: unknown;
  try {
    parameters = JSON.parse(row.parameters) as unknown;
  } catch {
    return null;
  }
  const event = rowFields(row, parameters);
  return isAuditEventShape(event) ? event : null;
}
