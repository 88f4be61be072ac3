import type { PgQueryable } from './pg.types';
import type { GrantCondition, GrantKind, GrantRecord, GrantStatus } from '../protocol/grant.types';

/** A row of `grants` (lib/postgres/migrations.ts), as node-postgres hands it back. */
export interface GrantRow {
  id: string;
  kind: string;
  tenant_id: string | null;
  action: string;
  conditions: unknown;
  agent_id: string | null;
  session_id: string | null;
  parameters_hash: string | null;
  escalation_id: string | null;
  granted_by: string;
  reason: string | null;
  created_at: Date | string;
  expires_at: Date | string;
  max_uses: number | string;
  uses: number | string;
  status: string;
}

/** The columns of `grants`, in the order of `grantRowValues`. */
export const GRANT_COLUMNS =
  'id, kind, tenant_id, action, conditions, agent_id, session_id, parameters_hash, ' +
  'escalation_id, granted_by, reason, created_at, expires_at, max_uses, uses, status';

/**
 * The bind values of one grant, in the order of GRANT_COLUMNS. The
 * conditions go in as JSON text (cast to jsonb in the statement); the
 * timestamps as the record's ISO strings (timestamptz keeps their
 * milliseconds exactly).
 */
export function grantRowValues(grant: GrantRecord): unknown[] {
  return [
    grant.id,
    grant.kind,
    grant.tenantId,
    grant.action,
    JSON.stringify(grant.conditions.map(conditionOf)),
    grant.agentId,
    grant.sessionId,
    grant.parametersHash,
    grant.escalationId,
    grant.grantedBy,
    grant.reason,
    grant.createdAt,
    grant.expiresAt,
    grant.maxUses,
    grant.uses,
    grant.status,
  ];
}

/** `$1, $2, ... $16::jsonb` placeholders for GRANT_COLUMNS (conditions cast to jsonb). */
export const GRANT_PLACEHOLDERS = GRANT_COLUMNS.split(', ')
  .map((column, index) => (column === 'conditions' ? `$${index + 1}::jsonb` : `$${index + 1}`))
  .join(', ');

/** A `grants` row back as the GrantRecord it was written from. */
export function grantFromRow(row: GrantRow): GrantRecord {
  const conditions = Array.isArray(row.conditions) ? row.conditions : [];
  return {
    id: row.id,
    kind: row.kind as GrantKind,
    tenantId: row.tenant_id,
    action: row.action,
    conditions: conditions.map((c) => conditionOf(c as GrantCondition)),
    agentId: row.agent_id,
    sessionId: row.session_id,
    parametersHash: row.parameters_hash,
    escalationId: row.escalation_id,
    grantedBy: row.granted_by,
    reason: row.reason,
    createdAt: isoOf(row.created_at),
    expiresAt: isoOf(row.expires_at),
    maxUses: Number(row.max_uses),
    uses: Number(row.uses),
    status: row.status as GrantStatus,
  };
}

/**
 * Writes one grant (e.g. the single-use grant of an approval whose caller had
 * stopped waiting) inside the caller's open transaction, so the grant exists
 * exactly when the transaction that made it commits. `schema` is the quoted
 * schema (`PostgresContext.schema`). Rejects on a database error (the caller
 * rolls back).
 */
export async function insertGrantWithin(
  client: PgQueryable,
  schema: string,
  grant: GrantRecord,
): Promise<void> {
  await client.query(
    `INSERT INTO ${schema}.grants (${GRANT_COLUMNS}) VALUES (${GRANT_PLACEHOLDERS})`,
    grantRowValues(grant),
  );
}

function conditionOf(condition: GrantCondition): GrantCondition {
  return { field: condition.field, operator: condition.operator, value: condition.value };
}

function isoOf(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
