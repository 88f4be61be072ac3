import type { PgPool, PgQueryable } from './pg.types';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name';
import { PostgresMessages } from './postgres.messages';

/**
 * One step of the schema. `statements` gets the schema already validated and
 * quoted (`"provenance"`), the only text ever spliced into SQL here.
 * Never edit a released migration: add the next version.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (schema: string) => readonly string[];
}

/** The schema, oldest first. Versions are 1, 2, 3, ... with no gaps. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit chain, escalations, grants, idempotency keys',
    statements: (s) => [
      // One row per audit event (lib/engine/audit/audit-event.ts), every field. The hash covers
      // the exact text of each field, so the timestamp and the parameters' canonical JSON are
      // kept as text (jsonb would reorder keys and rewrite numbers), and approver_reason_set
      // tells an absent approverReason from a null one.
      `CREATE TABLE ${s}.audit_events (
        tenant_id text NOT NULL,
        position bigint NOT NULL CHECK (position >= 0),
        id text NOT NULL,
        "timestamp" text NOT NULL,
        session_id text NOT NULL,
        agent_id text NOT NULL,
        action text NOT NULL,
        parameters text NOT NULL,
        payload_hash text NOT NULL,
        decision text NOT NULL,
        reason text NOT NULL,
        escalation_id text,
        actor_human_id text,
        approver_reason text,
        approver_reason_set boolean NOT NULL DEFAULT false,
        kind text NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (tenant_id, position),
        UNIQUE (id)
      )`,
      // The head of each tenant's chain: an append locks this row (SELECT ... FOR UPDATE), so
      // replicas append one after another and the chain never forks.
      `CREATE TABLE ${s}.audit_heads (
        tenant_id text PRIMARY KEY,
        position bigint NOT NULL,
        hash text NOT NULL
      )`,
      `CREATE TABLE ${s}.escalations (
        id text PRIMARY KEY,
        tenant_id text NOT NULL,
        status text NOT NULL,
        agent_id text NOT NULL,
        session_id text NOT NULL,
        action text NOT NULL,
        parameters jsonb,
        parameters_hash text NOT NULL,
        reason text NOT NULL,
        approver_id text,
        approver_reason text,
        created_at timestamptz NOT NULL,
        decided_at timestamptz,
        expires_at timestamptz NOT NULL,
        holder text,
        caller_waiting boolean NOT NULL DEFAULT false
      )`,
      `CREATE INDEX escalations_tenant_status ON ${s}.escalations (tenant_id, status)`,
      // lib/protocol/grant.types.ts GrantRecord.
      `CREATE TABLE ${s}.grants (
        id text PRIMARY KEY,
        kind text NOT NULL,
        tenant_id text,
        action text NOT NULL,
        conditions jsonb NOT NULL DEFAULT '[]'::jsonb,
        agent_id text,
        session_id text,
        parameters_hash text,
        escalation_id text,
        granted_by text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        max_uses integer NOT NULL,
        uses integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
        status text NOT NULL
      )`,
      `CREATE INDEX grants_tenant_action_status ON ${s}.grants (tenant_id, action, status)`,
      // The first answer to an idempotency key, per tenant; the fingerprint tells a replay from a conflict.
      `CREATE TABLE ${s}.idempotency_keys (
        tenant_id text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, key)
      )`,
      `CREATE INDEX idempotency_keys_created_at ON ${s}.idempotency_keys (created_at)`,
    ],
  },
  {
    version: 2,
    name: 'replicas, escalation outcomes, audit query indexes',
    statements: (s) => [
      // Each live replica's heartbeat: a hold whose holder stopped beating has no caller waiting.
      `CREATE TABLE ${s}.replicas (
        id text PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        description text NOT NULL DEFAULT ''
      )`,
      // The exact canonical text of the parameters (jsonb reorders keys and refuses NUL).
      `ALTER TABLE ${s}.escalations ADD COLUMN parameters_text text`,
      // The answer the ending gave (a GatewayResponse) and the event that recorded it.
      `ALTER TABLE ${s}.escalations ADD COLUMN outcome jsonb`,
      `ALTER TABLE ${s}.escalations ADD COLUMN outcome_event_id text`,
      `CREATE INDEX escalations_pending_expiry ON ${s}.escalations (expires_at) WHERE status = 'PENDING'`,
      `CREATE INDEX escalations_tenant_decided ON ${s}.escalations (tenant_id, decided_at)`,
      `ALTER TABLE ${s}.idempotency_keys ADD COLUMN holder text`,
      `CREATE INDEX audit_events_session ON ${s}.audit_events (tenant_id, session_id, position)`,
      `CREATE INDEX audit_events_action ON ${s}.audit_events (tenant_id, action, position)`,
      `CREATE INDEX audit_events_escalation ON ${s}.audit_events (tenant_id, escalation_id)`,
    ],
  },
  {
    version: 3,
    name: 'the policy each audit event was decided with',
    statements: (s) => [
      // AuditEvent.policyHash / policyVersion: both null for an event that names no policy (and
      // every row written before v3, whose hash covers no policy members).
      `ALTER TABLE ${s}.audit_events ADD COLUMN policy_hash text`,
      `ALTER TABLE ${s}.audit_events ADD COLUMN policy_version text`,
    ],
  },
];

/** What migrate() needs of a pool: a client to hold for one transaction. */
export type MigrationPool = Pick<PgPool, 'connect'>;

export interface MigrateOptions {
  /** Default `provenance`; must match `^[a-z_][a-z0-9_]{0,62}$`. */
  schema?: string;
  /** Defaults to MIGRATIONS; tests pass their own list. */
  migrations?: readonly Migration[];
}

/**
 * Brings `schema` up to the newest migration and resolves to the versions it
 * applied (`[]` when it was current). Idempotent, and safe for N replicas
 * starting at once: everything runs in one transaction that first takes a
 * transaction-level advisory lock keyed by the schema name, so the others
 * wait, then find the versions already recorded in `schema_migrations` and
 * apply nothing. A failing migration rolls the whole run back.
 */
export async function migrate(
  pool: MigrationPool,
  options: MigrateOptions = {},
): Promise<number[]> {
  const schemaName = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schemaName);
  const migrations = checkedList(options.migrations ?? MIGRATIONS);
  const client = await pool.connect();
  let unusable: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(schemaName)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    const done = new Set(await appliedVersions(client, s));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      try {
        for (const statement of migration.statements(s)) await client.query(statement);
      } catch (error) {
        throw new Error(
          PostgresMessages.migrationFailed(
            migration.version,
            migration.name,
            error instanceof Error ? error.message : String(error),
          ),
          { cause: error },
        );
      }
      await client.query(`INSERT INTO ${s}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      // A client whose rollback failed is not handed back to the pool.
      unusable = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(unusable);
  }
}

/**
 * The versions recorded in `schema`'s `schema_migrations`, oldest first;
 * `[]` when the schema or the table does not exist. For `migrate: false`: a
 * store checks the schema is current instead of creating it.
 */
export async function schemaVersions(
  pool: PgQueryable,
  options: { schema?: string } = {},
): Promise<number[]> {
  const schemaName = options.schema ?? DEFAULT_SCHEMA;
  const s = quoteSchema(schemaName);
  const exists = await pool.query<{ found: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS found`,
    [`${s}.schema_migrations`],
  );
  if (exists.rows[0]?.found !== true) return [];
  return appliedVersions(pool, s);
}

/** The newest version this library knows. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

async function appliedVersions(queryable: PgQueryable, s: string): Promise<number[]> {
  const result = await queryable.query<{ version: number }>(
    `SELECT version FROM ${s}.schema_migrations ORDER BY version`,
  );
  return result.rows.map((row) => Number(row.version));
}

function lockKey(schema: string): string {
  return `nestjs-provenance:migrate:${schema}`;
}

function checkedList(migrations: readonly Migration[]): readonly Migration[] {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `postgres migrations must be numbered 1, 2, 3, ... in order: #${index} is v${migration.version}`,
      );
    }
  });
  return migrations;
}
