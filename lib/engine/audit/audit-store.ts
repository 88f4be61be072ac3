import type { AuditAnchor } from './audit-chain';
import type { AuditCheckpoint } from './audit-checkpoints';
import type { AuditEvent, UnchainedAuditEvent } from './audit-event';
import type { AuditQuery } from './audit-query';
import type { StoredRecord } from './audit-verify-stream';

/** What `openHead` returns: the log's length and last event, without the events. */
export interface AuditStoreHead {
  count: number;
  last: AuditEvent | null;
}

/** `read()` as a stream (`readStream`): the anchor, then every record as stored. */
export interface AuditStoreStream {
  anchor: AuditAnchor | null;
  records: AsyncIterable<StoredRecord>;
  /** True when the store has no log at all any more. */
  missing?: boolean;
}

/** What a store holds, as verification needs it: every record as stored, well-formed or not. */
export interface AuditStoreContents {
  /** One entry per stored event, in order; a line that does not parse is `{ malformed: <why> }`. */
  records: unknown[];
  /** The last durable position and hash, when the store keeps an anchor. */
  anchor: AuditAnchor | null;
  /** True when the last line was torn (a crash mid-write); it is not part of the log. */
  tornTail: boolean;
  /**
   * The stored text of each record (one per entry of `records`, without the
   * line ending), for a store that keeps text: verification then also checks
   * that each is exactly the canonical text of its event.
   */
  lines?: string[];
  /** True when the store has no log at all any more (its file was deleted): not a valid log. */
  missing?: boolean;
}

/**
 * Where audit events live. The log (AuditLog) owns ordering and hashing; a
 * store only keeps what it is given, in order, and says when it is durable.
 * Written to be implemented by users too (a database table, an object store).
 *
 * A store with `openHead` and `readEvents` can be read where it is: an
 * AuditLog with `retainEvents: false` then keeps only its head. A store with
 * only `open` (the interface before 0.3) still works: the log then keeps the
 * events `open` returned, and those it appends, in memory, as it always did.
 */
export interface AuditStore {
  /** Where events go, for messages (a file path, or `memory`). */
  readonly description: string;
  /**
   * Prepares the store and returns the events it already holds, in order,
   * after recovering from a crash (a torn last line is dropped: it was never
   * acknowledged). Throws `AuditStoreError` when the stored chain may not be
   * continued (damaged, or shorter than its anchor).
   */
  open(): Promise<AuditEvent[]>;
  /**
   * Stores a batch, in order; resolves only once the whole batch is durable.
   * AuditLog also hands over `lines`: each event's stored line (serializeEvent's
   * text, canonical JSON and '\n'), written as it was chained, so a store that
   * keeps text need not serialize the events again. A store may ignore it.
   */
  append(events: readonly AuditEvent[], lines?: readonly string[]): Promise<void>;
  /**
   * Optional, for a store that keeps events in this process (nothing to wait
   * for): `append`, done before it returns; throws as `append` rejects.
   * AuditLog then stores an event in the call that appends it when nothing
   * is queued before it, instead of in a batch. No lines are made for it.
   */
  appendNow?(events: readonly AuditEvent[]): void;
  /** Reads back what is stored now (from the medium, not from a cache). */
  read(): Promise<AuditStoreContents>;
  /**
   * Optional, for bounded memory (with `retainEvents: false`, AuditLog keeps
   * no copy of a store that has `openHead` and `readEvents`): open() that
   * returns only the head.
   */
  openHead?(): Promise<AuditStoreHead>;
  /** Optional: the stored events from index `from` on, in order (for `list` and `count`). */
  readEvents?(from?: number): AsyncIterable<AuditEvent>;
  /** Optional: read() as a stream, for `verify` in bounded memory. */
  readStream?(): Promise<AuditStoreStream>;
  /**
   * Optional, for a store several processes write at once (a database): it
   * chains the batch itself, after the head it holds, in the transaction
   * that stores it (so the chain never forks however many write), and
   * resolves with the events as chained once that transaction committed.
   * The log then uses this instead of `append`, keeps no copy of the events,
   * reads `list`/`count` from the store to its end, and compares no head of
   * its own in `verify` (others move the head too). Needs `openHead` and
   * `readEvents`.
   */
  appendUnchained?(events: readonly UnchainedAuditEvent[]): Promise<AuditEvent[]>;
  /** Optional: `list` answered by the store (an indexed query) instead of a scan in the log. */
  list?(query: AuditQuery): Promise<AuditEvent[]>;
  /** Optional: `count` answered by the store. */
  count?(query: Omit<AuditQuery, 'limit'>): Promise<number>;
  /** Releases the file or connection. Idempotent. */
  close(): Promise<void>;
  /**
   * Keeps a signed checkpoint of the log's head (audit-checkpoints.ts), after
   * the events it signs are durable. Optional: a log with a signing key needs
   * a store that has it (the file store writes `<file>.checkpoints`).
   */
  appendCheckpoint?(checkpoint: AuditCheckpoint): Promise<void>;
  /** Every checkpoint kept, in the order written; a damaged one as `{ malformed: <why> }`. */
  readCheckpoints?(): Promise<unknown[]>;
}
