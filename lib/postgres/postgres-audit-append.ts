import type { PgPoolClient, PgQueryable } from './pg.types';
import {
  GENESIS_HASH,
  chainEvent,
  type AuditEvent,
  type UnchainedAuditEvent,
} from '../engine/audit/audit-event';
import { AuditStoreError } from '../engine/audit/audit.errors';
import { sha256Hex } from '../protocol/canonical-json';
import {
  AUDIT_ARRAY_TYPES,
  AUDIT_COLUMNS,
  auditRowArrays,
  checkStorable,
} from './postgres-audit-rows';
import { PostgresMessages } from './postgres.messages';

/**
 * The head of a tenant's chain as audit_heads holds it: the last event's
 * position and hash; position -1 (and the genesis hash) for an empty chain,
 * which has no row.
 */
export interface AuditChainHead {
  position: number;
  hash: string;
}

/** The head of a chain without events. */
export const EMPTY_HEAD: AuditChainHead = { position: -1, hash: GENESIS_HASH };

/** 'postgres <schema> (tenant <id>)', the store's description, for messages. */
export function describeAuditChain(schema: string, tenantId: string): string {
  return `postgres ${schema.replace(/^"|"$/g, '')} (tenant ${tenantId})`;
}

/**
 * Chains `events` after the tenant's head and stores them, inside the
 * CALLER's open transaction on `client` (`schema` quoted, as
 * PostgresContext.schema): locks the head row (SELECT ... FOR UPDATE; a
 * missing row is inserted first, then locked), chains the events after it
 * with chainEvent (the file log's code), inserts them in one multi-row
 * INSERT and moves the head, in one statement. Resolves with the events as
 * chained; they are durable once the caller commits. Every other writer of
 * the tenant waits on the head row until then, so the chain never forks.
 * Rejects with AuditStoreError (naming the store, never the connection
 * string); the caller's transaction must then roll back.
 */
export async function appendChainedWithin(
  client: PgPoolClient,
  schema: string,
  tenantId: string,
  events: readonly UnchainedAuditEvent[],
): Promise<AuditEvent[]> {
  if (events.length === 0) return [];
  const description = describeAuditChain(schema, tenantId);
  const head = await guarded(description, () => lockHead(client, schema, tenantId));
  const chained = chainAfter(events, head, tenantId, description);
  const arrays = auditRowArrays(chained);
  const last = chained[chained.length - 1];
  await guarded(description, () =>
    client.query({
      name: statementName(schema, 'append-locked'),
      text: `WITH inserted AS (${insertEvents(schema, '')})
       UPDATE ${schema}.audit_heads SET position = $${arrays.length + 2}, hash = $${arrays.length + 3}
       WHERE tenant_id = $1`,
      values: [tenantId, ...arrays, last.position, last.hash],
    }),
  );
  return chained;
}

/**
 * The hot path of a store (one round trip, one implicit transaction): stores
 * `events` chained after `expected`, the head this writer saw last, in one
 * autocommit statement that moves the head only if it is still `expected`
 * (an UPDATE that waits for a writer holding the row and then re-checks) and
 * inserts only if it moved. Resolves with the events as chained once the
 * statement committed, or null when another writer had moved the head
 * (nothing was stored: chain again under the lock, appendChainedWithin).
 */
export async function appendAfterHead(
  /** A pool (one autocommit statement) or a client in a transaction. */
  queryable: PgQueryable,
  schema: string,
  tenantId: string,
  expected: AuditChainHead,
  events: readonly UnchainedAuditEvent[],
): Promise<AuditEvent[] | null> {
  if (events.length === 0) return [];
  const description = describeAuditChain(schema, tenantId);
  const chained = chainAfter(events, expected, tenantId, description);
  const arrays = auditRowArrays(chained);
  const last = chained[chained.length - 1];
  const next = arrays.length + 2;
  // An empty chain has no head row: the first writer inserts it, a second finds it there.
  const moveHead =
    expected.position < 0
      ? `INSERT INTO ${schema}.audit_heads (tenant_id, position, hash) VALUES ($1, $${next}, $${next + 1})
         ON CONFLICT (tenant_id) DO NOTHING RETURNING 1`
      : `UPDATE ${schema}.audit_heads SET position = $${next}, hash = $${next + 1}
         WHERE tenant_id = $1 AND position = $${next + 2} AND hash = $${next + 3} RETURNING 1`;
  const values: unknown[] = [tenantId, ...arrays, last.position, last.hash];
  if (expected.position >= 0) values.push(expected.position, expected.hash);
  const result = await guarded(description, () =>
    queryable.query<{ inserted: number }>({
      // Named: the server parses and plans it once per connection, not per call.
      name: statementName(schema, expected.position < 0 ? 'append-first' : 'append-after'),
      text: `WITH moved AS (${moveHead}),
       inserted AS (${insertEvents(schema, 'WHERE EXISTS (SELECT 1 FROM moved)')})
       SELECT count(*)::int AS inserted FROM inserted`,
      values,
    }),
  );
  return result.rows[0]?.inserted === chained.length ? chained : null;
}

/** The head row, locked until the transaction ends; inserted (empty) first when missing. */
async function lockHead(
  client: PgPoolClient,
  schema: string,
  tenantId: string,
): Promise<AuditChainHead> {
  const select = {
    name: statementName(schema, 'lock-head'),
    text: `SELECT position, hash FROM ${schema}.audit_heads WHERE tenant_id = $1 FOR UPDATE`,
    values: [tenantId],
  };
  let found = await client.query<{ position: string; hash: string }>(select);
  if (found.rows.length === 0) {
    // Waits for a writer inserting the same row, then finds it and inserts nothing.
    await client.query(
      `INSERT INTO ${schema}.audit_heads (tenant_id, position, hash) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId, EMPTY_HEAD.position, EMPTY_HEAD.hash],
    );
    found = await client.query<{ position: string; hash: string }>(select);
  }
  const row = found.rows[0];
  return { position: Number(row.position), hash: row.hash };
}

/** The events chained after `head`, each checked storable (else AuditStoreError: nothing stored). */
function chainAfter(
  events: readonly UnchainedAuditEvent[],
  head: AuditChainHead,
  tenantId: string,
  description: string,
): AuditEvent[] {
  const chained: AuditEvent[] = new Array<AuditEvent>(events.length);
  let position = head.position + 1;
  let prevHash = head.hash;
  for (let index = 0; index < events.length; index++) {
    const event = chainEvent(events[index], position++, prevHash);
    try {
      checkStorable(event, tenantId);
    } catch (error) {
      throw new AuditStoreError(description, (error as Error).message, { cause: error });
    }
    prevHash = event.hash;
    chained[index] = event;
  }
  return chained;
}

/**
 * The name of a prepared statement of this schema's chain: prepared once per
 * connection. The schema is in the name because it is in the text, and one
 * pool may serve several schemas.
 */
function statementName(schema: string, statement: string): string {
  const key = `${statement}\n${schema}`;
  let name = STATEMENT_NAMES.get(key);
  if (name === undefined) {
    name = `provenance-${statement}-${sha256Hex(schema).slice(0, 16)}`;
    STATEMENT_NAMES.set(key, name);
  }
  return name;
}

const STATEMENT_NAMES = new Map<string, string>();

/** INSERT of the unnested column arrays $2.. (tenant $1), filtered by `where`. */
function insertEvents(schema: string, where: string): string {
  const arrays = AUDIT_ARRAY_TYPES.map((type, index) => `$${index + 2}::${type}[]`).join(', ');
  return (
    `INSERT INTO ${schema}.audit_events (${AUDIT_COLUMNS}) ` +
    `SELECT $1, u.* FROM unnest(${arrays}) AS u ${where} RETURNING 1`
  );
}

/** Runs a statement; a database error becomes the store's AuditStoreError (no connection string). */
async function guarded<T>(description: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AuditStoreError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new AuditStoreError(description, PostgresMessages.auditWriteFailed(why), {
      cause: error,
    });
  }
}
