import type { AuditAnchor } from '../engine/audit/audit-chain';
import type { AuditEvent, UnchainedAuditEvent } from '../engine/audit/audit-event';
import type { AuditQuery } from '../engine/audit/audit-query';
import type {
  AuditStore,
  AuditStoreContents,
  AuditStoreHead,
  AuditStoreStream,
} from '../engine/audit/audit-store';
import type { StoredRecord } from '../engine/audit/audit-verify-stream';
import { AuditStoreError } from '../engine/audit/audit.errors';
import {
  EMPTY_HEAD,
  appendAfterHead,
  appendChainedWithin,
  describeAuditChain,
  type AuditChainHead,
} from './postgres-audit-append';
import { countStatement, listStatement } from './postgres-audit-query';
import { AUDIT_COLUMNS, eventOfRow, storedRecordOf, type AuditRow } from './postgres-audit-rows';
import type { PostgresContext } from './postgres-context';
import { PostgresMessages } from './postgres.messages';

/** Rows per page when the chain is read (verify, readEvents): memory stays bounded by one page. */
export const AUDIT_PAGE_ROWS = 1000;

/** The columns of an event row, as read. */
const ROW_COLUMNS = AUDIT_COLUMNS;

/**
 * One tenant's audit chain in PostgreSQL (audit_events, audit_heads), shared
 * by every replica: it chains each batch itself after the head in the
 * database (AuditStore.appendUnchained), so an AuditLog over it goes shared.
 *
 * An append is one autocommit statement when this store's last known head is
 * still the head (it moves the head only if unchanged and inserts only if it
 * moved), else one transaction that locks the head row (appendChainedWithin);
 * it resolves once committed. Reads page through the table by position
 * (AUDIT_PAGE_ROWS rows at a time), so verify and list hold one page, never
 * the log. A database error rejects with AuditStoreError naming the store
 * (never the connection string); the next append tries again. The pool
 * belongs to the context: close() does not end it.
 */
/** How many batches go straight to the locked path after the one-statement try lost a race. */
const LOCKED_AFTER_CONTENTION = 8;

export class PostgresAuditStore implements AuditStore {
  /** 'postgres <schema> (tenant <id>)'. */
  readonly description: string;
  /** The head as this store last saw it (its own append or openHead); null when unknown. */
  private head: AuditChainHead | null = null;
  /**
   * Batches left to chain under the head's lock at once: set when another
   * writer moved the head, so that replicas appending together do not send
   * every batch twice (the one-statement try, then the locked transaction).
   */
  private lockedBatches = 0;
  private closed = false;

  constructor(
    private readonly context: PostgresContext,
    readonly tenantId: string,
  ) {
    this.description = describeAuditChain(context.schemaName, tenantId);
  }

  /** Refused: the log is never read whole from here; AuditLog opens a shared store with openHead. */
  async open(): Promise<AuditEvent[]> {
    throw new AuditStoreError(this.description, PostgresMessages.auditOpenUnsupported());
  }

  /** Refused: events chained elsewhere could fork the chain; appendUnchained chains them here. */
  async append(_events: readonly AuditEvent[]): Promise<void> {
    throw new AuditStoreError(this.description, PostgresMessages.auditAppendUnsupported());
  }

  /**
   * The chain's length and last event, from the head row. Refuses (as the
   * file store does a damaged tail) when the event the head names is missing
   * or carries another hash.
   */
  async openHead(): Promise<AuditStoreHead> {
    this.closed = false;
    const s = this.context.schema;
    const rows = await this.read_<AuditRow & { head_position: string; head_hash: string }>(
      `SELECT h.position AS head_position, h.hash AS head_hash, ${prefixed('e')}
       FROM ${s}.audit_heads h
       LEFT JOIN ${s}.audit_events e ON e.tenant_id = h.tenant_id AND e.position = h.position
       WHERE h.tenant_id = $1 AND h.position >= 0`,
      [this.tenantId],
    );
    if (rows.length === 0) {
      this.head = EMPTY_HEAD;
      return { count: 0, last: null };
    }
    const position = Number(rows[0].head_position);
    const last = rows[0].id === null ? null : eventOfRow(rows[0]);
    if (last === null || last.hash !== rows[0].head_hash) {
      throw new AuditStoreError(this.description, PostgresMessages.auditHeadMismatch(position), {
        position,
      });
    }
    this.head = { position, hash: last.hash };
    return { count: position + 1, last };
  }

  /**
   * Chains the batch after the database's head and stores it in one
   * transaction; resolves with the events as chained once it committed.
   */
  async appendUnchained(events: readonly UnchainedAuditEvent[]): Promise<AuditEvent[]> {
    if (this.closed) {
      throw new AuditStoreError(this.description, PostgresMessages.auditStoreClosed());
    }
    if (events.length === 0) return [];
    const expected = this.head;
    this.head = null;
    const s = this.context.schema;
    try {
      await this.context.ready();
      const tryFast = expected !== null && this.lockedBatches === 0;
      if (!tryFast && this.lockedBatches > 0) this.lockedBatches--;
      let chained = tryFast
        ? await appendAfterHead(this.context.pool, s, this.tenantId, expected, events)
        : null;
      if (chained === null) {
        // Another writer moved the head: chain after it under its lock, for the next few batches too.
        if (tryFast) this.lockedBatches = LOCKED_AFTER_CONTENTION;
        chained = await this.context.transaction((client) =>
          appendChainedWithin(client, s, this.tenantId, events),
        );
      }
      const last = chained[chained.length - 1];
      this.head = { position: last.position, hash: last.hash };
      return chained;
    } catch (error) {
      throw this.failure(error, PostgresMessages.auditWriteFailed);
    }
  }

  /** The well-formed events from position `from` on, page by page (a malformed row is skipped). */
  async *readEvents(from = 0): AsyncGenerator<AuditEvent> {
    for await (const row of this.rows(from)) {
      const event = eventOfRow(row);
      if (event !== null) yield event;
    }
  }

  /** For verify: the head row as the anchor, then every row as stored, page by page. */
  async readStream(): Promise<AuditStoreStream> {
    const anchor = await this.anchor();
    return { anchor, records: this.storedRecords() };
  }

  /** readStream, collected (the whole log in memory: verify uses readStream). */
  async read(): Promise<AuditStoreContents> {
    const stream = await this.readStream();
    const records: unknown[] = [];
    for await (const { record } of stream.records) records.push(record);
    return { records, anchor: stream.anchor, tornTail: false };
  }

  /** `list` in SQL (the indexes on session, action, escalation), AuditLog's semantics. */
  async list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    const statement = listStatement(this.context.schema, ROW_COLUMNS, query);
    if (statement === null) return [];
    const rows = await this.read_<AuditRow>(statement.text, [this.tenantId, ...statement.values]);
    const events: AuditEvent[] = [];
    for (const row of rows) {
      const event = eventOfRow(row);
      if (event !== null) events.push(event);
    }
    return events;
  }

  /** `count` in SQL. */
  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    const statement = countStatement(this.context.schema, query);
    const rows = await this.read_<{ total: string }>(statement.text, [
      this.tenantId,
      ...statement.values,
    ]);
    return Number(rows[0].total);
  }

  /** Refuses further appends; the pool is the context's (not ended here). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.head = null;
  }

  /** The head row as an anchor, or null for an empty chain. */
  private async anchor(): Promise<AuditAnchor | null> {
    const rows = await this.read_<{ position: string; hash: string }>(
      `SELECT position, hash FROM ${this.context.schema}.audit_heads
       WHERE tenant_id = $1 AND position >= 0`,
      [this.tenantId],
    );
    return rows.length === 0 ? null : { position: Number(rows[0].position), hash: rows[0].hash };
  }

  private async *storedRecords(): AsyncGenerator<StoredRecord> {
    for await (const row of this.rows(0)) yield storedRecordOf(row);
  }

  /**
   * The tenant's rows from position `from` on, in position order, one page
   * of AUDIT_PAGE_ROWS per query; the next page is asked for while this one
   * is consumed (at most two pages held).
   */
  private async *rows(from: number): AsyncGenerator<AuditRow> {
    const start = Math.max(0, Math.floor(from));
    if (!Number.isFinite(start)) return;
    let pending: Promise<AuditRow[]> | null = this.page(start);
    try {
      while (pending !== null) {
        const page: AuditRow[] = await pending;
        pending =
          page.length < AUDIT_PAGE_ROWS
            ? null
            : this.page(Number(page[page.length - 1].position) + 1);
        for (const row of page) yield row;
      }
    } finally {
      // Left early: the page asked for ahead is not wanted, nor its failure.
      pending?.catch(() => undefined);
    }
  }

  private page(from: number): Promise<AuditRow[]> {
    return this.read_<AuditRow>(
      `SELECT ${ROW_COLUMNS} FROM ${this.context.schema}.audit_events
       WHERE tenant_id = $1 AND position >= $2 ORDER BY position LIMIT $3`,
      [this.tenantId, from, AUDIT_PAGE_ROWS],
    );
  }

  /** One read statement; a database error as the store's AuditStoreError. */
  private async read_<R extends object>(text: string, values: unknown[]): Promise<R[]> {
    try {
      await this.context.ready();
      return (await this.context.pool.query<R>(text, values)).rows;
    } catch (error) {
      throw this.failure(error, PostgresMessages.auditReadFailed);
    }
  }

  private failure(error: unknown, message: (why: string) => string): AuditStoreError {
    if (error instanceof AuditStoreError) return error;
    const why = error instanceof Error ? error.message : String(error);
    return new AuditStoreError(this.description, message(why), { cause: error });
  }
}

/** ROW_COLUMNS of table alias `alias`. */
function prefixed(alias: string): string {
  return ROW_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}
