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
} as const;
