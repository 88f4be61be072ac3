import { promises as fs } from 'node:fs';
import type { Pool } from 'pg';
import { looksLikeBundle, parseBundle } from '../engine/audit/audit-bundle';
import { parseStoredLine, streamAuditFile } from '../engine/audit/audit-log.file-store';
import { redactConnectionString } from '../postgres/connection-string';
import { PostgresAuditStore } from '../postgres/postgres-audit-store';
import { PostgresContext } from '../postgres/postgres-context';
import { quoteSchema } from '../postgres/schema-name';
import { readHead } from './audit-verify.command';
import { openCliPool, scrub } from './db.command';
import { PolicyBacktestMessages as M } from './policy-backtest.messages';

/**
 * Where `provenance policy backtest` reads the recorded calls from, one
 * record at a time: a JSON-lines audit file (streamed 1 MiB at a time, as
 * `audit verify` reads it), or one tenant's chain in PostgreSQL (paged by
 * position, PostgresAuditStore.readEvents). Neither holds the log.
 */
export interface BacktestSource {
  /** What the report names: the file, or the database (no password), schema and tenant. */
  description: string;
  records: AsyncIterable<unknown>;
  close(): Promise<void>;
}

/** Thrown when the source cannot be read at all (exit 2); the message says why. */
export class BacktestSourceError extends Error {}

/** A JSON-lines log, streamed; or a bundle (`audit export`), which is one JSON document read whole. */
export async function openFileSource(file: string): Promise<BacktestSource> {
  let lines: AsyncIterable<string>;
  try {
    if (looksLikeBundle(await readHead(file))) return bundleSource(file);
    lines = (await streamAuditFile(file)).lines;
  } catch (error) {
    if (error instanceof BacktestSourceError) throw error;
    throw new BacktestSourceError(M.unreadableFile(file, (error as Error).message));
  }
  async function* records(): AsyncGenerator<unknown> {
    try {
      for await (const line of lines) yield parseStoredLine(line);
    } catch (error) {
      throw new BacktestSourceError(M.unreadableFile(file, (error as Error).message));
    }
  }
  return { description: file, records: records(), close: async () => undefined };
}

async function bundleSource(file: string): Promise<BacktestSource> {
  let records: unknown[];
  try {
    records = parseBundle(await fs.readFile(file, 'utf8')).records;
  } catch (error) {
    throw new BacktestSourceError(M.unreadableFile(file, (error as Error).message));
  }
  async function* each(): AsyncGenerator<unknown> {
    yield* records;
  }
  return { description: `${file} (bundle)`, records: each(), close: async () => undefined };
}

export async function openPostgresSource(
  url: string,
  schema: string,
  tenant: string,
): Promise<BacktestSource> {
  quoteSchema(schema);
  const shown = `${redactConnectionString(url)} schema ${schema} tenant ${tenant}`;
  const pool = openCliPool(url, 2);
  try {
    await checkSchema(pool, url, schema, shown);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const context = new PostgresContext({ pool, schema, migrate: false });
  const store = new PostgresAuditStore(context, tenant);
  async function* records(): AsyncGenerator<unknown> {
    try {
      yield* store.readEvents(0);
    } catch (error) {
      throw new BacktestSourceError(M.databaseFailed(shown, scrub(error, url)));
    }
  }
  return {
    description: shown,
    records: records(),
    close: async () => {
      await store.close();
      await context.close();
      await pool.end().catch(() => undefined);
    },
  };
}

/** Connects and checks the schema has the provenance tables: a clear message for either failure. */
async function checkSchema(pool: Pool, url: string, schema: string, shown: string): Promise<void> {
  let client;
  try {
    client = await pool.connect();
  } catch (error) {
    throw new BacktestSourceError(M.databaseFailed(shown, scrub(error, url)));
  }
  try {
    const found = await client.query<{ present: string | null }>(
      `SELECT to_regclass($1) AS present`,
      [`${quoteSchema(schema)}.audit_events`],
    );
    if (found.rows[0]?.present === null || found.rows[0]?.present === undefined) {
      throw new BacktestSourceError(M.noAuditTable(shown, schema));
    }
  } catch (error) {
    if (error instanceof BacktestSourceError) throw error;
    throw new BacktestSourceError(M.databaseFailed(shown, scrub(error, url)));
  } finally {
    client.release();
  }
}
