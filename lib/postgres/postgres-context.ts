import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { redactConnectionString } from './connection-string';
import { migrate } from './migrations';
import { loadPg } from './pg-loader';
import type { PgPool, PgPoolClient, PgPoolModule } from './pg.types';
import { PostgresMessages } from './postgres.messages';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name';

/** Where the state of every replica lives: one PostgreSQL database and schema. */
export interface PostgresOptions {
  /** A `postgres://` URL; the library then owns (creates and ends) its pool. */
  connectionString?: string;
  /** A pool the application owns (and ends); used as it is. */
  pool?: PgPool;
  /** The schema of the tables. Default `provenance`. */
  schema?: string;
  /** Create or upgrade the tables on first use. Default true; false for teams that run `provenance db migrate`. */
  migrate?: boolean;
  /** Connections of a pool the library creates. Default 10. */
  maxConnections?: number;
}

/**
 * One database, one schema, shared by the stores of an engine (audit chain,
 * escalations, grants, idempotency keys). The schema is brought up to date
 * once, on first use (`ready()`), whoever asks first; the pool is ended on
 * `close()` only when the library created it.
 */
export class PostgresContext {
  /** The schema name as given (validated). */
  readonly schemaName: string;
  /** The schema quoted for SQL (`"provenance"`): the only text ever spliced into a statement. */
  readonly schema: string;
  readonly pool: PgPool;
  /** Where the database is, fit for messages (no password). */
  readonly description: string;
  private readonly ownsPool: boolean;
  private readonly migrateOnStart: boolean;
  private readying: Promise<void> | null = null;
  private readonly pg: () => PgPoolModule;
  private side: PgPool | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: PostgresOptions, pg: () => PgPoolModule = () => loadPg()) {
    if (options === null || typeof options !== 'object') {
      throw new ProvenanceConfigError('postgres', PostgresMessages.badOptions());
    }
    this.schemaName = options.schema ?? DEFAULT_SCHEMA;
    this.schema = quoteSchema(this.schemaName);
    this.migrateOnStart = options.migrate ?? true;
    this.pg = pg;
    if (options.pool !== undefined) {
      if (options.connectionString !== undefined) {
        throw new ProvenanceConfigError('postgres', PostgresMessages.poolAndUrl());
      }
      this.pool = options.pool;
      this.ownsPool = false;
      this.description = 'a pg.Pool of the application';
      return;
    }
    const url = options.connectionString;
    if (typeof url !== 'string' || url.trim() === '') {
      throw new ProvenanceConfigError('postgres', PostgresMessages.noConnection());
    }
    const { Pool: PgPool } = pg();
    this.pool = new PgPool({ connectionString: url, max: options.maxConnections ?? 10 });
    // An idle client's error (the server went away) must not crash the process:
    // the next query fails instead, and calls fail closed.
    this.pool.on('error', () => undefined);
    this.ownsPool = true;
    this.description = redactConnectionString(url);
  }

  /** Brings the schema up to date (or, with `migrate: false`, checks it is). Once; retried after a failure. */
  ready(): Promise<void> {
    this.readying ??= this.prepare().catch((error: unknown) => {
      this.readying = null;
      throw error;
    });
    return this.readying;
  }

  /** Runs `work` in one transaction on one client; rolls back when it throws. */
  async transaction<T>(work: (client: PgPoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost mid-transaction also emits 'error' on the client (its
    // query rejects already): without a listener that would crash the process.
    const lost = (error: Error) => (broken = error);
    client.on('error', lost);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw error;
    } finally {
      // A client whose rollback failed (or whose connection was lost) is in an
      // unknown state: destroy it rather than reuse it.
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  /**
   * A one-connection pool beside the main one, with its settings, for what
   * must not wait behind the work queued on the main pool (a replica's
   * heartbeat: stuck behind a burst of decisions, it would make a live
   * replica look dead). Made on first use; always ended by `close()`.
   */
  sidePool(): PgPool {
    if (this.side !== null) return this.side;
    const settings = (this.pool as unknown as { options?: Record<string, unknown> }).options ?? {};
    const { Pool: PgPool } = this.pg();
    this.side = new PgPool({ ...settings, max: 1 });
    this.side.on('error', () => undefined);
    return this.side;
  }

  /** Ends the side pool, and the main pool if the library created it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.side?.end().catch(() => undefined);
      if (this.ownsPool) await this.pool.end().catch(() => undefined);
    })();
    return this.closing;
  }

  private async prepare(): Promise<void> {
    if (this.migrateOnStart) {
      await migrate(this.pool, { schema: this.schemaName });
      return;
    }
    const found = await this.pool
      .query<{ version: number | null }>(
        `SELECT max(version) AS version FROM ${this.schema}.schema_migrations`,
      )
      .catch(() => ({ rows: [{ version: null }] }));
    const version = found.rows[0]?.version ?? null;
    if (version === null) {
      throw new ProvenanceConfigError(
        'postgres.migrate',
        PostgresMessages.notMigrated(this.schemaName),
      );
    }
  }
}
