/**
 * What the library uses of node-postgres, written out here so that the
 * published declarations reachable from the main entry never import `pg`:
 * `pg` and `@types/pg` are optional, and a project that type-checks its
 * dependencies (`skipLibCheck: false`) without them must still compile. A
 * `pg.Pool` and its clients are these (test/unit/postgres/pg-types.spec.ts
 * checks that they stay assignable).
 */

/** A query as text, or with a statement name for a prepared statement. */
export interface PgQueryConfig {
  text: string;
  values?: unknown[];
  name?: string;
}

/** The part of a result the library reads. */
export interface PgQueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** Anything that runs a query: a pool or one of its clients. */
export interface PgQueryable {
  query<R = any>(query: string | PgQueryConfig, values?: unknown[]): Promise<PgQueryResult<R>>;
}

/** A client checked out of a pool, held for one transaction. */
export interface PgPoolClient extends PgQueryable {
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
  /** Hands the client back; with an error, destroys it instead. */
  release(error?: Error | boolean): void;
}

/** A pool: `new pg.Pool(...)`, the application's or the library's own. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** What the library needs of `require('pg')` to make its own pools. */
export interface PgPoolModule {
  Pool: new (config: Record<string, unknown>) => PgPool;
}
