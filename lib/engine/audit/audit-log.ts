import type { Decision } from '../../protocol/decision';
import { AuditMessages } from '../engine.messages';
import { verifyChain, type AuditVerification } from './audit-chain';
import {
  GENESIS_HASH,
  chainEvent,
  prepareEvent,
  releaseCanonicalText,
  type AuditEvent,
  type AuditEventInput,
  type AuditEventKind,
  type UnchainedAuditEvent,
} from './audit-event';
import { AuditStoreError } from './audit.errors';
import { FileAuditStore } from './audit-log.file-store';
import { MemoryAuditStore } from './audit-log.memory-store';
import type { AuditStore } from './audit-store';

export interface AuditQuery {
  sessionId?: string;
  agentId?: string;
  action?: string;
  decision?: Decision;
  kind?: AuditEventKind;
  escalationId?: string;
  /** Events at or after this time (ISO string or Date). */
  since?: string | Date;
  /** Events strictly before this time. */
  until?: string | Date;
  /** The most recent `limit` events (still returned oldest first). */
  limit?: number;
}

export interface AuditLogOptions {
  /** Where events go. Default: a MemoryAuditStore. */
  store?: AuditStore;
  /** Most events written (and fsynced) together. Default 1000. */
  maxBatch?: number;
}

interface QueuedAppend {
  event: UnchainedAuditEvent;
  resolve(event: AuditEvent): void;
  reject(error: unknown): void;
}

/**
 * The hash-chained audit log. Appends are serialized through one queue, so
 * positions and hashes follow call order and the chain never forks however
 * many callers append at once; appends that arrive while a batch is being
 * written are grouped into the next batch (one write, one fsync), and each
 * caller's promise resolves only once its batch is durable.
 *
 * Memory: the log keeps every event in memory for `list`/`count` (the store
 * keeps no second copy). That is fine for the embedded gateway's audience
 * (development, single-node apps); a very large log wants a store with its
 * own index and a log that queries it, which this interface leaves room for.
 * `verify()` always re-reads the store, so an edit of the file is seen.
 */
export class AuditLog {
  readonly store: AuditStore;
  private readonly maxBatch: number;
  private events: AuditEvent[] = [];
  private opening: Promise<void> | null = null;
  private queue: QueuedAppend[] = [];
  private flushing = false;
  private failure: unknown = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private idle: Array<() => void> = [];

  constructor(options: AuditLogOptions = {}) {
    this.store = options.store ?? new MemoryAuditStore();
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
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
    this.opening ??= this.store.open().then((events) => {
      this.events = events;
    });
    return this.opening;
  }

  /** The number of events written so far (once open). */
  get size(): number {
    return this.events.length;
  }

  /** The last event, or null for an empty log (once open). */
  get last(): AuditEvent | null {
    return this.events[this.events.length - 1] ?? null;
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
      event = prepareEvent(input, new Date());
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AuditEvent>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  async list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    await this.open();
    const matched = this.events.filter(matcher(query));
    const limit = query.limit;
    return limit !== undefined && limit >= 0
      ? matched.slice(Math.max(0, matched.length - limit))
      : matched;
  }

  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    await this.open();
    const test = matcher(query);
    let total = 0;
    for (const event of this.events) if (test(event)) total++;
    return total;
  }

  /** Verifies what the store holds now, including its head anchor. */
  async verify(): Promise<AuditVerification> {
    await this.whenIdle();
    const contents = await this.store.read();
    return verifyChain(contents.records, contents.anchor);
  }

  /** Waits for queued appends to be written, then closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.whenIdle();
      // Release the store only if it was taken: an unopened log has nothing to release.
      if (this.opening !== null) {
        await this.opening.catch(() => undefined);
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
      if (this.failure !== null) {
        for (const item of batch) item.reject(this.failedError());
        continue;
      }
      const chained: AuditEvent[] = [];
      let prevHash = this.last?.hash ?? GENESIS_HASH;
      let position = this.events.length;
      for (const item of batch) {
        const event = chainEvent(item.event, position++, prevHash);
        prevHash = event.hash;
        chained.push(event);
      }
      try {
        await this.store.append(chained);
      } catch (error) {
        this.failure = error;
        for (const item of batch) item.reject(error);
        continue;
      } finally {
        releaseCanonicalText(chained);
      }
      this.events.push(...chained);
      batch.forEach((item, index) => item.resolve(chained[index]));
    }
    this.finishFlush();
  }

  private finishFlush(): void {
    this.flushing = false;
    for (const wake of this.idle.splice(0)) wake();
  }

  private failAll(error: unknown): void {
    for (const item of this.queue.splice(0)) item.reject(error);
  }

  private failedError(): AuditStoreError {
    const why = this.failure instanceof Error ? this.failure.message : String(this.failure);
    return new AuditStoreError(null, AuditMessages.logFailed(why), { cause: this.failure });
  }

  private whenIdle(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}

function matcher(query: AuditQuery): (event: AuditEvent) => boolean {
  const since = query.since === undefined ? null : new Date(query.since).getTime();
  const until = query.until === undefined ? null : new Date(query.until).getTime();
  return (event) => {
    if (query.sessionId !== undefined && event.sessionId !== query.sessionId) return false;
    if (query.agentId !== undefined && event.agentId !== query.agentId) return false;
    if (query.action !== undefined && event.action !== query.action) return false;
    if (query.decision !== undefined && event.decision !== query.decision) return false;
    if (query.kind !== undefined && event.kind !== query.kind) return false;
    if (query.escalationId !== undefined && event.escalationId !== query.escalationId) return false;
    if (since !== null || until !== null) {
      const time = Date.parse(event.timestamp);
      if (since !== null && time < since) return false;
      if (until !== null && time >= until) return false;
    }
    return true;
  };
}
