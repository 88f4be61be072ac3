import type { Decision } from '../../protocol/decision';
import { AuditMessages } from '../engine.messages';
import {
  verifyChain,
  withViolations,
  type AuditVerification,
  type AuditViolation,
} from './audit-chain';
import { CheckpointWriter, type AuditCheckpointOptions } from './audit-checkpoint-writer';
import { verifyCheckpoints, type AuditHead } from './audit-checkpoints';
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
import { AuditFindingMessages } from './audit.messages';
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
  /**
   * At most this many events: the most recent `limit` (still returned oldest
   * first), or with `offset` the first `limit` from there.
   */
  limit?: number;
  /** Page forward: events from this position on (0-based), oldest first. */
  offset?: number;
}

export interface AuditVerifyOptions {
  /**
   * Also compare the store with the head this log holds in memory (its event
   * count and last hash): a shorter log swapped in, or an event this log never
   * wrote, is then found even when the store alone is consistent. The gateway
   * server's integrity route asks for it. Default false.
   */
  live?: boolean;
}

export interface AuditLogOptions {
  /** Where events go. Default: a MemoryAuditStore. */
  store?: AuditStore;
  /** Most events written (and fsynced) together. Default 1000. */
  maxBatch?: number;
  /**
   * Sign the log's head with an Ed25519 key every so many events or seconds,
   * at open and at close (docs/audit.md). The store must keep checkpoints.
   */
  checkpoints?: AuditCheckpointOptions;
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
  private readonly checkpoints: CheckpointWriter | null;
  private events: AuditEvent[] = [];
  /** The batch being written: in the store perhaps, not yet in `events`. */
  private inflight: AuditEvent[] = [];
  private opening: Promise<void> | null = null;
  private isOpen = false;
  private queue: QueuedAppend[] = [];
  private flushing = false;
  private failure: unknown = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private idle: Array<() => void> = [];

  constructor(options: AuditLogOptions = {}) {
    this.store = options.store ?? new MemoryAuditStore();
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
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
    this.opening ??= this.store.open().then(async (events) => {
      this.events = events;
      try {
        await this.checkpoints?.opened(events);
      } catch (error) {
        // Refused by its checkpoints: release the store, as a store that refuses to open does.
        this.events = [];
        await this.store.close().catch(() => undefined);
        throw error;
      }
      this.isOpen = true;
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

  /**
   * The events that match, oldest first. Walks the log once without copying
   * it: with `offset`, forward from that position until `limit` are found;
   * otherwise back from the end until `limit` are found.
   */
  async list(query: AuditQuery = {}): Promise<AuditEvent[]> {
    await this.open();
    const events = this.events;
    const test = hasFilter(query) ? matcher(query) : null;
    const limit =
      query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : Infinity;
    const found: AuditEvent[] = [];
    if (limit === 0) return found;
    if (query.offset !== undefined || limit === Infinity) {
      const from = Math.max(0, Math.floor(query.offset ?? 0));
      if (test === null) return events.slice(from, limit === Infinity ? undefined : from + limit);
      for (let i = from; i < events.length && found.length < limit; i++) {
        if (test(events[i])) found.push(events[i]);
      }
      return found;
    }
    if (test === null) return events.slice(Math.max(0, events.length - limit));
    for (let i = events.length - 1; i >= 0 && found.length < limit; i--) {
      if (test(events[i])) found.push(events[i]);
    }
    return found.reverse();
  }

  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    await this.open();
    const test = matcher(query);
    let total = 0;
    for (const event of this.events) if (test(event)) total++;
    return total;
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
    const live = options.live === true && this.isOpen ? this.head() : null;
    const liveCount = this.events.length;
    // Checkpoints and the anchor are written after the events they name, so
    // they are read before the log: the log read afterwards holds them.
    const checkpoints =
      this.checkpoints !== null && this.store.readCheckpoints !== undefined
        ? await this.store.readCheckpoints()
        : null;
    const contents = await this.store.read();
    const extra: AuditViolation[] = [];
    if (contents.missing === true) {
      extra.push({
        position: 0,
        eventId: null,
        problem: 'missing',
        message: AuditFindingMessages.problemMissing(),
        expected: null,
        actual: null,
      });
    }
    let verification = verifyChain(contents.records, contents.anchor, { lines: contents.lines });
    if (options.live === true && this.isOpen) {
      extra.push(...this.compareWithLive(contents.records, liveCount, live));
    }
    if (checkpoints !== null && this.checkpoints !== null) {
      const result = verifyCheckpoints(contents.records, checkpoints, {
        publicKeys: [this.checkpoints.key.publicKey],
      });
      extra.push(...result.violations, ...this.checkpoints.missingWritten(checkpoints));
      verification = { ...verification, checkpoints: result.summary };
    }
    return withViolations(verification, extra);
  }

  /** Waits for queued appends to be written, then closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      await this.whenIdle();
      // Release the store only if it was taken: an unopened log has nothing to release.
      if (this.opening !== null) {
        await this.opening.catch(() => undefined);
        await this.checkpoints?.close(this.isOpen && this.failure === null);
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
      // A checkpoint that could not be written: the store is failing, fail closed.
      if (this.failure === null && this.checkpoints?.failure != null) {
        this.failure = this.checkpoints.failure;
      }
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
      this.inflight = chained;
      try {
        await this.store.append(chained);
      } catch (error) {
        this.failure = error;
        for (const item of batch) item.reject(error);
        continue;
      } finally {
        this.inflight = [];
        releaseCanonicalText(chained);
      }
      this.events.push(...chained);
      batch.forEach((item, index) => item.resolve(chained[index]));
      // Signed behind the answers just given, written without holding up the next batch.
      this.checkpoints?.afterBatch(chained.length);
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

  /** The last durable event's position and hash, or null for an empty log. */
  private head(): AuditHead | null {
    const last = this.last;
    return last === null ? null : { position: last.position, hash: last.hash };
  }

  /**
   * The store against this log's own head, taken before the store was read
   * (`count` events, the last `head`): the store must hold that event there,
   * and any event after it must be one this log wrote since (appends go on
   * while the store is read).
   */
  private compareWithLive(
    records: readonly unknown[],
    count: number,
    head: AuditHead | null,
  ): AuditViolation[] {
    const hashOf = (index: number) => (records[index] as { hash?: unknown } | null)?.hash;
    if (records.length < count) {
      return [
        {
          position: records.length,
          eventId: null,
          problem: 'live-head-mismatch',
          message: AuditFindingMessages.liveShorter(count, records.length),
          expected: count,
          actual: records.length,
        },
      ];
    }
    if (head !== null && hashOf(head.position) !== head.hash) {
      const found = hashOf(head.position);
      return [
        {
          position: head.position,
          eventId: idOf(records[head.position]),
          problem: 'live-head-mismatch',
          message: AuditFindingMessages.liveOtherHead(head.position),
          expected: head.hash,
          actual: typeof found === 'string' ? found : null,
        },
      ];
    }
    const inflightFrom = this.inflight[0]?.position ?? Infinity;
    for (let position = count; position < records.length; position++) {
      const written =
        this.events[position] ??
        (position >= inflightFrom ? this.inflight[position - inflightFrom] : undefined);
      const found = hashOf(position);
      if (written === undefined || written.hash !== found) {
        return [
          {
            position,
            eventId: idOf(records[position]),
            problem: 'live-head-mismatch',
            message: AuditFindingMessages.liveUnknown(position),
            expected: written?.hash ?? null,
            actual: typeof found === 'string' ? found : null,
          },
        ];
      }
    }
    return [];
  }

  private whenIdle(): Promise<void> {
    if (!this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}

function idOf(record: unknown): string | null {
  const id = (record as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}

function hasFilter(query: AuditQuery): boolean {
  return (
    query.sessionId !== undefined ||
    query.agentId !== undefined ||
    query.action !== undefined ||
    query.decision !== undefined ||
    query.kind !== undefined ||
    query.escalationId !== undefined ||
    query.since !== undefined ||
    query.until !== undefined
  );
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
