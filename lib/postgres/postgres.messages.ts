/** The texts of the PostgreSQL layer's errors, in one place. */
export const PostgresMessages = {
  pgMissing: (detail: string) =>
    "postgres is configured, but the 'pg' package (node-postgres, an optional peer dependency) " +
    `cannot be loaded: install it with \`npm install pg\` (${detail})`,
  badSchema: (schema: string) =>
    `postgres.schema must be a lowercase identifier matching ^[a-z_][a-z0-9_]{0,62}$ ` +
    `(letters, digits and underscores, at most 63 characters), got ${JSON.stringify(schema)}`,
  migrationFailed: (version: number, name: string, detail: string) =>
    `postgres: migration v${version} (${name}) failed and was rolled back: ${detail}`,
  badOptions: () =>
    'postgres must be an object: { connectionString } or { pool }, with optional schema and migrate',
  poolAndUrl: () =>
    'postgres: give either connectionString or pool, not both (a pool carries its own connection settings)',
  noConnection: () =>
    'postgres: give connectionString (a postgres:// URL; PROVENANCE_DATABASE_URL is read when it is unset) or pool (a pg.Pool)',
  notMigrated: (schema: string) =>
    `postgres.migrate is false, but schema "${schema}" has no provenance tables: run \`provenance db migrate --url ... --schema ${schema}\` first, or drop migrate: false`,

  // ---- replicas and held calls (postgres-replica.ts, postgres-escalation-*.ts)
  badReplicaMs: (name: string, got: string) =>
    `postgres replica ${name} must be an integer number of milliseconds from 1 to 2147483647; got ${got}`,
  staleNotAfterHeartbeat: (staleAfterMs: number, heartbeatMs: number) =>
    `postgres replica staleAfterMs (${staleAfterMs}) must be more than heartbeatMs (${heartbeatMs}), ` +
    'or a live replica would look dead between two beats',
  replicaClosed: (id: string) => `postgres replica ${id} is closed`,

  // ---- the audit chain (postgres-audit-*.ts)
  auditEventExtraField: (key: string) =>
    `the event has a field '${key}' that an audit_events row has no column for; nothing was recorded`,
  auditEventShape: (position: number) =>
    `the event at position ${position} is not a well-formed audit event; nothing was recorded`,
  auditEventOtherTenant: (eventTenant: string, chainTenant: string) =>
    `the event is of tenant ${JSON.stringify(eventTenant)}, but this chain is tenant ` +
    `${JSON.stringify(chainTenant)}'s (one PostgresAuditStore per tenant); nothing was recorded`,
  auditEventUnstorable: (field: string) =>
    `the event's ${field} holds a NUL character or an unpaired surrogate, which PostgreSQL text ` +
    'cannot keep exactly; nothing was recorded',
  auditRowParameters: (why: string) => `the parameters column is not JSON (${why})`,
  auditWriteFailed: (why: string) =>
    `cannot write the audit chain (the batch is not acknowledged: its transaction was rolled back, or lost with the connection): ${why}`,
  auditReadFailed: (why: string) => `cannot read the audit chain: ${why}`,
  auditHeadMismatch: (position: number) =>
    `the head row names position ${position}, but the event there is missing or has another hash: ` +
    'the chain was edited. Run verify; appends are refused',
  auditOpenUnsupported: () =>
    'a PostgreSQL audit store is shared by every replica and chains itself: open it with ' +
    'openHead (an AuditLog does), it never returns the whole log',
  auditAppendUnsupported: () =>
    'a PostgreSQL audit store chains its own batches after the head in the database: use ' +
    'appendUnchained (an AuditLog does), not append of events chained elsewhere',
  auditStoreClosed: () => 'the audit store is closed',

  // ---- grants and idempotency keys (postgres-grant-*.ts, postgres-idempotency-store.ts)
  grantsUnavailable: (why: string) =>
    `cannot read or write the grants (the call is not allowed by a grant): ${why}`,
  idempotencyUnavailable: (why: string) =>
    `cannot read or claim the idempotency key (the call is not decided): ${why}`,
  idempotencyAbandoned: () =>
    'the first call with this idempotency key was being decided by a replica that stopped ' +
    'before it answered; retry to decide the call again',
  idempotencyReleased: () =>
    'the first call with this idempotency key failed without an answer; retry to decide the call again',
  idempotencyClosed: () => 'the idempotency store is closed; the first answer was not awaited',
  idempotencyUnreadable: () =>
    'the stored answer of this idempotency key is not a gateway response; the call is not answered',

  // ---- held calls (postgres-escalation-*.ts)
  badEscalationMs: (name: string, got: string) =>
    `postgres escalations ${name} must be an integer number of milliseconds from 1 to 2147483647; got ${got}`,
  badChannel: (channel: string) =>
    `postgres: ${JSON.stringify(channel)} is not a channel name (^[a-z_][a-z0-9_]{0,62}$)`,
  escalationsUnavailable: (why: string) =>
    `cannot read or write the held calls in PostgreSQL (nothing was allowed): ${why}`,
  escalationsClosed: (tenantId: string) =>
    `the PostgreSQL escalation store of tenant ${JSON.stringify(tenantId)} is closed: the call was not held`,
  escalationOutcomeMissing: (id: string, status: string) =>
    `escalation ${id} ended (${status}) without a recorded answer this library wrote: blocked, never allowed`,
  escalationApprovedAsGrant: (id: string) =>
    `escalation ${id} was approved while this replica looked gone (its heartbeat was stale), so the ` +
    'approval became a single-use grant: this call is not run; retry the identical call to use the grant',
} as const;
