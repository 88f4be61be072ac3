import type { HoldStatus } from '../engine/escalation/escalation-holds';
import type { HeldCall } from '../engine/escalation/escalation-store';
import { parametersTextOf, parseCanonical } from '../protocol/canonical-stamp';
import { canonicalJson } from '../protocol/canonical-json';
import { Decision } from '../protocol/decision';
import type {
  EscalationRecord,
  EscalationStatus,
  GatewayResponse,
} from '../protocol/gateway.types';
import { EscalationError } from '../protocol/provenance.errors';
import { PostgresMessages } from './postgres.messages';

/** A row of `escalations` (lib/postgres/migrations.ts, v1 + v2), as node-postgres hands it back. */
export interface EscalationRow {
  id: string;
  tenant_id: string;
  status: string;
  agent_id: string;
  session_id: string;
  action: string;
  parameters_text: string | null;
  parameters: unknown;
  parameters_hash: string;
  /** Why the policy escalated. */
  reason: string;
  approver_id: string | null;
  approver_reason: string | null;
  created_at: Date | string;
  decided_at: Date | string | null;
  expires_at: Date | string;
  holder: string | null;
  caller_waiting: boolean;
  /** The GatewayResponse the ending gave (jsonb, parsed by node-postgres). */
  outcome: unknown;
  outcome_event_id: string | null;
}

/** Every column of `escalations`, for SELECT and RETURNING. */
export const ESCALATION_COLUMNS =
  'id, tenant_id, status, agent_id, session_id, action, parameters_text, parameters, ' +
  'parameters_hash, reason, approver_id, approver_reason, created_at, decided_at, expires_at, ' +
  'holder, caller_waiting, outcome, outcome_event_id';

export const STATUS_OF: Record<HoldStatus, EscalationStatus> = {
  approved: 'APPROVED',
  rejected: 'REJECTED',
  expired: 'TIMEOUT',
  withdrawn: 'WITHDRAWN',
};

const HOLD_STATUS_OF: Record<string, HoldStatus | undefined> = {
  APPROVED: 'approved',
  REJECTED: 'rejected',
  TIMEOUT: 'expired',
  WITHDRAWN: 'withdrawn',
};

/** The hold status of an ended row; undefined for PENDING or a status this library never writes. */
export function holdStatusOf(row: Pick<EscalationRow, 'status'>): HoldStatus | undefined {
  return HOLD_STATUS_OF[row.status];
}

/**
 * The statement that holds a call: inserts the row and notifies `$13` with
 * `$14` in one statement (one round trip; the notification is delivered on
 * commit, so every replica told can read the row). Values: holdValues().
 */
export function holdSql(schema: string): string {
  return `WITH held AS (
      INSERT INTO ${schema}.escalations (id, tenant_id, status, agent_id, session_id, action,
        parameters_text, parameters_hash, reason, created_at, expires_at, holder, caller_waiting)
      VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      RETURNING id)
    SELECT pg_notify($13, $14) FROM held`;
}

/**
 * The bind values of holdSql for one held call: the parameters as their
 * exact canonical text (jsonb would reorder keys and refuses NUL), held by
 * `holder` with its caller waiting, until `expiresAt`.
 */
export function holdValues(
  call: HeldCall,
  tenantId: string,
  holder: string,
  createdAt: string,
  expiresAt: string,
  channel: string,
): unknown[] {
  const { ticket } = call;
  const text =
    parametersTextOf(call.parameters) ??
    (ticket.parameters === null ? 'null' : canonicalJson(ticket.parameters));
  return [
    ticket.escalationId,
    tenantId,
    ticket.agentId,
    ticket.sessionId,
    ticket.action,
    text,
    ticket.parametersHash,
    ticket.reason,
    createdAt,
    expiresAt,
    holder,
    true,
    channel,
    notifyPayload(ticket.escalationId, 'PENDING'),
  ];
}

/** What a notification says: which escalation changed, and to what. Small: the row is read. */
export function notifyPayload(id: string, status: EscalationStatus): string {
  return JSON.stringify({ id, status });
}

/** A notification's payload back; null for one this library did not send. */
export function parseNotifyPayload(
  payload: string | undefined,
): { id: string; status: string } | null {
  if (payload === undefined) return null;
  try {
    const value = JSON.parse(payload) as { id?: unknown; status?: unknown };
    if (typeof value.id !== 'string' || typeof value.status !== 'string') return null;
    return { id: value.id, status: value.status };
  } catch {
    return null;
  }
}

/** The call's parameters, parsed from their canonical text (remembered with it, so events splice it). */
export function parametersOf(row: EscalationRow): Record<string, unknown> | null {
  if (row.parameters_text !== null && row.parameters_text !== undefined) {
    return parseCanonical(row.parameters_text) as Record<string, unknown> | null;
  }
  return (row.parameters ?? null) as Record<string, unknown> | null;
}

/** The escalation as it is now: for an ended one, `reason` is the approver's (EscalationHolds does the same). */
export function recordOf(row: EscalationRow): EscalationRecord {
  if (row.status === 'PENDING') return pendingRecordOf(row);
  const decidedAt = row.decided_at === null ? null : isoOf(row.decided_at);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    agentId: row.agent_id,
    action: row.action,
    parametersHash: row.parameters_hash,
    status: row.status as EscalationStatus,
    approverId: row.approver_id,
    decidedAt,
    reason: row.approver_reason,
    createdAt: isoOf(row.created_at),
    updatedAt: decidedAt ?? isoOf(row.created_at),
    sessionId: row.session_id,
    parameters: parametersOf(row),
  };
}

/** The escalation as it was when held (PENDING, the policy's reason), whatever it is now. */
export function pendingRecordOf(row: EscalationRow): EscalationRecord {
  const createdAt = isoOf(row.created_at);
  return {
    id: row.id,
    tenantId: row.tenant_id,
    agentId: row.agent_id,
    action: row.action,
    parametersHash: row.parameters_hash,
    status: 'PENDING',
    approverId: null,
    decidedAt: null,
    reason: row.reason,
    createdAt,
    updatedAt: createdAt,
    sessionId: row.session_id,
    parameters: parametersOf(row),
  };
}

/**
 * The answer an ended row recorded, checked: a response with an event id,
 * ALLOW only for an approval. Anything else (a row ended by hand, without
 * its outcome) throws: an unknown answer is never an ALLOW.
 */
export function outcomeOf(row: EscalationRow): GatewayResponse {
  const status = holdStatusOf(row);
  const outcome = row.outcome as Partial<GatewayResponse> | null;
  const wellFormed =
    status !== undefined &&
    outcome !== null &&
    typeof outcome === 'object' &&
    typeof outcome.eventId === 'string' &&
    outcome.eventId === row.outcome_event_id &&
    typeof outcome.reason === 'string' &&
    (outcome.decision === Decision.BLOCK ||
      (outcome.decision === Decision.ALLOW && status === 'approved')) &&
    outcome.escalationOutcome === status;
  if (!wellFormed) {
    throw new EscalationError(PostgresMessages.escalationOutcomeMissing(row.id, row.status), {
      escalationId: row.id,
    });
  }
  return outcome as GatewayResponse;
}

export function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
