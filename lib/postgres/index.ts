// The public surface of the PostgreSQL layer; lib/index.ts re-exports it. Nothing here loads `pg`.
export { PostgresContext, type PostgresOptions } from './postgres-context';
export { redactConnectionString } from './connection-string';
export {
  createPostgresEngine,
  type PostgresEngine,
  type PostgresEngineSetup,
  type PostgresEngineTiming,
} from './postgres-engine';
export { PostgresReplica, type PostgresReplicaOptions } from './postgres-replica';
export {
  DATABASE_URL_ENV,
  resolvePostgresOptions,
  type PostgresSetting,
  type ResolvedPostgresOptions,
} from './postgres-options';
export {
  LATEST_VERSION,
  migrate,
  schemaVersions,
  type MigrateOptions,
  type Migration,
} from './migrations';
