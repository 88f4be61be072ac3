import { AuditMessages } from '../engine.messages';
import type { AuditVerification } from './audit-chain';
import { CheckpointWriter, type AuditEventLookup } from './audit-checkpoint-writer';
import type { AuditHead } from './audit-checkpoints';
import {
  GENESIS_HASH,
  prepareEvent,
  releaseCanonicalText,
  type AuditEvent,
  type AuditEventInput,
  type UnchainedAuditEvent,
} from './audit-event';
import { AppendedNow, chainBatch, type QueuedAppend } from './audit-append-queue';
import { AuditStoreError } from './audit.errors';
import { FileAuditStore } from './audit-log.file-store';
import { AuditLogRefusal } from './audit-log-refusal';
import { MemoryAuditStore } from './audit-log.memory-store';
import type { AuditLogOptions, AuditVerifyOptions } from './audit-log.options';
import { countEvents, listEvents, type AuditEventSource, type AuditQuery } from './audit-query';
import type { AuditStore } from './audit-store';
import { eventsOf } from './audit-store-streams';
import { openLogHead } from './audit-log-head';
import { verifyLogStore } from './audit-store-verify';
import { timedAppend } from '../../telemetry/audit-append-telemetry';

// The log's options and query, importable from here as before.
export type { AuditLogOptions, AuditVerifyOptions } from './audit-log.options';
export type { AuditQuery } from './audit-query';

/**
 * The hash-chained audit log. Appends are serialized through one queue, so
 * positions and hashes follow call order and the chain never forks however
 * many callers append at once; appends that arrive while a batch is being
 * written are grouped into the next batch (one write, one fsync), and each
 * caller's promise resolves only once its batch is durable. A store in this
 * process's memory (`appendNow`: the memory store) takes an event in the
 * call that appends it when nothing is queued before it, without a batch.
 *
 * Memory: by default the log keeps only its head (the count, the last event,
 * the batch being written) and `list`/`count` read the store (`readEvents`:
 * the file store streams the file), so a long-running process does not grow
 * with its log; `retainEvents: true` keeps every event in memory for
 * `list`/`count` (the earlier default). `verify()` always re-reads the store,
 * streamed when the store has `readStream` (the file store does), so an edit
 * of the file is seen and a log of any length is verified in bounded memory.
 * A custom store with only the older interface (`open` returning every event)
 * still works: its events are kept in memory.
 *
 * A store that refuses (damaged, held by another writer, failing) is said
 * once per log on console.error, with the position and how to inspect it.
 */
export class AuditLog {
  readonly store: AuditStore;
  private readonly maxBatch: number;
  private readonly retainEvents: boolean;
  /** The store chains its own batches (several writers share it): see AuditStore.appendUnchained. */
  private readonly shared: boolean;
  private readonly checkpoints: CheckpointWriter | null;
  /** Why every append is refused (the store failed), said once per log. */
  private readonly refused: AuditLogRefusal;
  /** Every event, when retained (`retainEvents: true`) or the store cannot stream. */
  private legacy: AuditEvent[] | null = null;
  private count_ = 0;
  private lastEvent: AuditEvent | null = null;
  /** The batch being written: in the store perhaps, not yet counted. */
  private inflight: AuditEvent[] = [];
  /** Events appended while a verify reads the store (one list per running verify). */
  private readonly watchers = new Set<AuditEvent[]>();
  private opening: Promise<void> | null = null;
  private isOpen = false;
  private queue: QueuedAppend[] = [];
  private flushing = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private idle: Array<() => void> = [];

  /** The events at indexes `from` to `end` (exclusive), from the store (or the legacy copy). */
  private readonly source: AuditEventSource = (from, end) =>
    eventsOf(this.store, this.legacy, from, end);

  constructor(options: AuditLogOptions = {}) {
    this.store = options.store ?? new MemoryAuditStore();
    this.refused = new AuditLogRefusal(this.store);
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.retainEvents = options.retainEvents ?? false;
    this.shared = typeof this.store.appendUnchained === 'function';
    this.checkpoints =
      options.checkpoints === undefined
        ? null
        : new CheckpointWriter(this.store, options.checkpoints, () => this.head());
  }

  /** A log over an append-only JSON-lines file (default `.provenance/audit.jsonl`), opened. */
  static async openFile(file?: string, options: { durable?: boolean } = {}): Promise<AuditLog> {
    const log = new AuditLog({ store: new FileAuditStore(file, options) });
    await log.open();
    return log;
  }

  /** Reads the store and recovers from a crash. Called by the first operation if not before. */
  open(): Promise<void> {
    if (this.closed) return Promise.reject(new AuditStoreError(null, AuditMessages.storeClosed()));
    this.opening ??= this.openStore().then(async (opened) => {
      try {
        if (this.checkpoints !== null) await this.checkpoints.opened(await opened());
      } catch (error) {
        // Refused by its checkpoints: release the store, as a store that refuses to open does.
        this.legacy = null;
        this.count_ = 0;
        this.lastEvent = null;
        await this.store.close().catch(() => undefined);
        throw error;
      }
      this.isOpen = true;
    });
    this.opening.catch((error: unknown) => this.refused.sayOnce(error));
    return this.opening;
  }

  /** The number of events written so far (once open). */
  get size(): number {
    return this.count_;
  }

  /** Why this log refuses every append until reopened (its store failed), or null: for health checks. */
  readonly refusal = (): unknown => this.refused.reason;

  /** The last event, or null for an empty log (once open). */
  get last(): AuditEvent | null {
    return this.lastEvent;
  }

  /** Opens the store and takes its head (audit-log-head.ts); returns how checkpoints read it. */
  private async openStore(): Promise<() => Promise<AuditEventLookup>> {
    const opened = await openLogHead(this.store, this.retainEvents && !this.shared);
    this.legacy = opened.events;
    this.count_ = opened.count;
    this.lastEvent = opened.last;
    return opened.lookup;
  }

  /**
   * Appends an event; resolves with it, chained, once it is durable. Rejects
   * with `InvalidParametersError` (parameters that cannot be hashed: nothing
   * is written) or `AuditStoreError` (the store failed: the log then refuses
   * every later append until reopened, since it no longer knows what the
   * store holds).
   *
   * Parameters the walker normalised (the engine's) are not walked again:
   * their canonical text is remembered with them (canonicalTextOf). Any others
   * are walked here, under the same rules.
   *
   * `_canonicalParameters` is deprecated since 0.2 and ignored: a text handed
   * in by the caller was trusted unchecked, and could disagree with the
   * parameters it claimed to be.
   */
  append(input: AuditEventInput, _canonicalParameters?: string): Promise<AuditEvent> {
    if (this.closed) return Promise.reject(new AuditStoreError(null, AuditMessages.storeClosed()));
    let event: UnchainedAuditEvent;
    try {
      event = prepareEvent(input, Date.now());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AuditEvent>((resolve, reject) => {
      const item = timedAppend({ event, resolve, reject }, event);
      if (this.appendsNow()) return this.storeNow(item);
      this.queue.push(item);
      if (!this.flushing) void this.flush();
    });
  }

  /** Whether `appendNow` would store an event in this call (a subclass's own `append` is never bypassed). */
  storesNow(): boolean {
    return !this.closed && this.append === AuditLog.prototype.append && this.appendsNow();
  }

  /**
   * `append`, done in this call when the store takes events at once (see
   * appendsNow): the event, chained and stored; null when it must go through
   * `append` (nothing was done). Throws what `append` rejects with.
   */
  appendNow(input: AuditEventInput): AuditEvent | null {
    if (!this.storesNow()) return null;
    const event = prepareEvent(input, Date.now());
    const now = new AppendedNow(event);
    this.storeNow(timedAppend(now, event));
    return now.result();
  }

  /**
   * A store in this process's memory (`appendNow`) takes an event in the call
   * that appends it, when the log is open and unfailed and nothing is queued
   * before it: no batch, so no promise hops to wait for.
   */
  private appendsNow(): boolean {
    if (this.store.appendNow === undefined || this.shared || !this.isOpen) return false;
    return !this.flushing && this.refused.check(this.checkpoints?.failure) === null;
  }

  private storeNow(item: QueuedAppend): void {
    const chained = chainBatch([item], this.count_, this.last?.hash ?? GENESIS_HASH);
    try {
      this.store.appendNow?.(chained);
    } catch (error) {
      this.refused.refuse(error);
      return item.reject(error);
    } finally {
      releaseCanonicalText(chained);
    }
    this.stored([item], chained);
  }

  /**
   * The events that match, oldest first (audit-query.ts: the most recent
   * `limit`, or with `offset` the first `limit` from there).
   */
  async list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    await this.open();
    if (this.store.list !== undefined) return this.store.list(query);
    return listEvents(this.source, await this.storedCount(), query);
  }

  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    await this.open();
    if (this.store.count !== undefined) return this.store.count(query);
    return countEvents(this.source, await this.storedCount(), query);
  }

  /** How many events there are to read: a shared store's own count (others append too), else this log's. */
  private async storedCount(): Promise<number> {
    const { store } = this;
    if (!this.shared || store.openHead === undefined) return this.count_;
    return (await store.openHead()).count;
  }

  /**
   * Verifies what the store holds now: the chain, its head anchor, that each
   * stored line is the canonical text of its event, and that the store still
   * has a log at all. With a signing key, also the store's checkpoints against
   * its public key, and that the last checkpoint this log wrote is still
   * there. With `live`, the store is also compared with this log's own head.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    await this.whenIdle();
    // A shared store's head moves with every writer: the store is the only truth to check.
    const live =
      options.live === true && this.isOpen && !this.shared
        ? { head: this.head(), count: this.count_, inflight: () => this.inflight }
        : null;
    return verifyLogStore(this.store, this.checkpoints, live, this.watchers);
  }

  /** Waits for queued appends to be written, then closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.whenIdle();
      // Release the store only if it was taken: an unopened log has nothing to release.
      if (this.opening !== null) {
        await this.opening.catch(() => undefined);
        await this.checkpoints?.close(this.isOpen && this.refused.reason === null);
        await this.store.close();
      }
    })();
    return this.closing;
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      await this.open();
    } catch (error) {
      // The store cannot be opened: fail every waiting append, and let a later one retry.
      this.opening = null;
      this.failAll(error);
      this.finishFlush();
      return;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      if (this.refused.check(this.checkpoints?.failure) !== null) {
        for (const item of batch) item.reject(this.refused.error());
        continue;
      }
      let chained: AuditEvent[] = [];
      try {
        chained = await this.write(batch);
      } catch (error) {
        // A shared store's transaction rolled back whole: nothing of the batch
        // is stored and its head is where it was, so the next batch may try
        // (calls succeed again once the database is back). Any other store may
        // hold part of the batch: refuse every later append until reopened.
        if (!this.shared) this.refused.refuse(error);
        for (const item of batch) item.reject(error);
        continue;
      } finally {
        this.inflight = [];
        releaseCanonicalText(chained);
      }
      this.stored(batch, chained);
    }
    this.finishFlush();
  }

  /** A batch the store now holds: counted, shown to running verifies, answered, then signed. */
  private stored(batch: readonly QueuedAppend[], chained: AuditEvent[]): void {
    this.legacy?.push(...chained);
    this.lastEvent = chained[chained.length - 1];
    // A shared store's positions move with the other writers: take them from the store's answer.
    this.count_ = this.shared ? this.lastEvent.position + 1 : this.count_ + chained.length;
    for (const watcher of this.watchers) watcher.push(...chained);
    batch.forEach((item, index) => item.resolve(chained[index]));
    // Signed behind the answers just given, written without holding up the next batch.
    this.checkpoints?.afterBatch(chained.length);
  }

  /** Chains and stores one batch (or lets a shared store chain it); resolves once it is durable. */
  private async write(batch: readonly QueuedAppend[]): Promise<AuditEvent[]> {
    if (this.store.appendUnchained !== undefined) {
      return this.store.appendUnchained(batch.map((item) => item.event));
    }
    const lines: string[] = [];
    const chained = chainBatch(batch, this.count_, this.last?.hash ?? GENESIS_HASH, lines);
    this.inflight = chained;
    await this.store.append(chained, lines);
    return chained;
  }

  private finishFlush(): void {
    this.flushing = false;
    for (const wake of this.idle.splice(0)) wake();
  }

  private failAll(error: unknown): void {
    for (const item of this.queue.splice(0)) item.reject(error);
  }

  /** The last durable event's position and hash, or null for an empty log. */
  private head(): AuditHead | null {
    const last = this.last;
    return last === null ? null : { position: last.position, hash: last.hash };
  }

  private whenIdle(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
