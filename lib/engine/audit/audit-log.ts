import type { Decision } from '../../protocol/decision';
import { AuditMessages } from '../engine.messages';
import {
  verifyChain,
  withViolations,
  type AuditAnchor,
  type AuditVerification,
  type AuditViolation,
} from './audit-chain';
import {
  CheckpointWriter,
  type AuditCheckpointOptions,
  type AuditEventLookup,
} from './audit-checkpoint-writer';
import {
  checkpointPositions,
  verifyCheckpoints,
  type AuditHead,
  type AuditRecordLookup,
} from './audit-checkpoints';
import { verifyRecordStream } from './audit-verify-stream';
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
  /**
   * Keep every event in memory for `list` and `count` (default true, as
   * before). With false, the log keeps only its head and `list`/`count` read
   * the store (`readEvents`; the file store streams the file), so memory does
   * not grow with the log; `list` then shows what the store holds now (a file
   * replaced behind the log's back lists its new content; `verify({ live })`
   * still reports the swap). A store without `openHead`/`readEvents` is
   * always kept in memory.
   */
  retainEvents?: boolean;
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
 * Memory: by default the log keeps every event in memory for `list`/`count`.
 * With `retainEvents: false` it keeps only its head (the count, the last
 * event, the batch being written) and `list`/`count` read the store
 * (`readEvents`: the file store streams the file), so a long-running process
 * does not grow with its log. `verify()` always re-reads the store, streamed
 * when the store has `readStream` (the file store does), so an edit of the
 * file is seen and a log of any length is verified in bounded memory. A
 * custom store with only the older interface (`open` returning every event)
 * still works: its events are kept in memory.
 */
export class AuditLog {
  readonly store: AuditStore;
  private readonly maxBatch: number;
  private readonly retainEvents: boolean;
  private readonly checkpoints: CheckpointWriter | null;
  /** Every event, when they are retained (the default), or for a store without streaming reads. */
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
  private failure: unknown = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private idle: Array<() => void> = [];

  constructor(options: AuditLogOptions = {}) {
    this.store = options.store ?? new MemoryAuditStore();
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
    this.retainEvents = options.retainEvents ?? true;
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
    return this.opening;
  }

  /** The number of events written so far (once open). */
  get size(): number {
    return this.count_;
  }

  /** The last event, or null for an empty log (once open). */
  get last(): AuditEvent | null {
    return this.lastEvent;
  }

  /**
   * Opens the store and takes its head. Returns how the checkpoint writer
   * reads the opened log: the events, or (streamed) only those at the
   * checkpoints' positions.
   */
  private async openStore(): Promise<() => Promise<AuditEventLookup>> {
    const store = this.store;
    if (!this.retainEvents && streams(store)) {
      const head = await store.openHead();
      this.legacy = null;
      this.count_ = head.count;
      this.lastEvent = head.last;
      return async () => {
        const wanted = checkpointPositions((await store.readCheckpoints?.()) ?? []);
        const kept = new Map<number, AuditEvent>();
        if (wanted.size > 0) {
          let index = 0;
          for await (const event of store.readEvents(0)) {
            if (index >= head.count) break;
            if (wanted.has(index)) kept.set(index, event);
            index++;
          }
        }
        return { length: head.count, at: (position) => kept.get(position) };
      };
    }
    const events = await store.open();
    this.legacy = events;
    this.count_ = events.length;
    this.lastEvent = events[events.length - 1] ?? null;
    return async () => events;
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
    const end = this.count_;
    const test = hasFilter(query) ? matcher(query) : null;
    const limit =
      query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : Infinity;
    const found: AuditEvent[] = [];
    if (limit === 0) return found;
    if (query.offset !== undefined || limit === Infinity) {
      const from = Math.max(0, Math.floor(query.offset ?? 0));
      for await (const event of this.eventsFrom(from, end)) {
        if (test !== null && !test(event)) continue;
        found.push(event);
        if (found.length >= limit) break;
      }
      return found;
    }
    // The most recent `limit` that match: a ring of at most `limit` events.
    const from = test === null ? Math.max(0, end - limit) : 0;
    let matched = 0;
    for await (const event of this.eventsFrom(from, end)) {
      if (test !== null && !test(event)) continue;
      if (found.length < limit) found.push(event);
      else found[matched % limit] = event;
      matched++;
    }
    if (matched <= limit) return found;
    const split = matched % limit;
    return [...found.slice(split), ...found.slice(0, split)];
  }

  async count(query: Omit<AuditQuery, 'limit'> = {}): Promise<number> {
    await this.open();
    const test = matcher(query);
    let total = 0;
    for await (const event of this.eventsFrom(0, this.count_)) if (test(event)) total++;
    return total;
  }

  /** The events at indexes `from` to `end` (exclusive), from the store (or the legacy copy). */
  private async *eventsFrom(from: number, end: number): AsyncGenerator<AuditEvent> {
    const legacy = this.legacy;
    if (legacy !== null || !streams(this.store)) {
      const events = legacy ?? [];
      for (let index = from; index < Math.min(end, events.length); index++) yield events[index];
      return;
    }
    let index = from;
    if (index >= end) return;
    for await (const event of this.store.readEvents(from)) {
      yield event;
      if (++index >= end) return;
    }
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
    const liveCount = this.count_;
    // Checkpoints and the anchor are written after the events they name, so
    // they are read before the log: the log read afterwards holds them.
    const checkpoints =
      this.checkpoints !== null && this.store.readCheckpoints !== undefined
        ? await this.store.readCheckpoints()
        : null;
    const recent: AuditEvent[] = [];
    this.watchers.add(recent);
    let read: { records: RecordLookup; anchor: AuditAnchor | null; missing: boolean };
    let verification: AuditVerification;
    try {
      ({ read, verification } = await this.readAndVerify(checkpoints, live, liveCount));
    } finally {
      this.watchers.delete(recent);
    }
    const contents = read;
    const extra: AuditViolation[] = [];
    if (contents.missing) {
      extra.push({
        position: 0,
        eventId: null,
        problem: 'missing',
        message: AuditFindingMessages.problemMissing(),
        expected: null,
        actual: null,
      });
    }
    if (options.live === true && this.isOpen) {
      extra.push(...this.compareWithLive(contents.records, liveCount, live, recent));
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

  /**
   * Reads the store and verifies its chain: streamed when the store can
   * (keeping only the records the checkpoints and the live head look at),
   * else from `read()`.
   */
  private async readAndVerify(
    checkpoints: readonly unknown[] | null,
    live: AuditHead | null,
    liveCount: number,
  ): Promise<{
    read: { records: RecordLookup; anchor: AuditAnchor | null; missing: boolean };
    verification: AuditVerification;
  }> {
    if (this.store.readStream !== undefined) {
      const stream = await this.store.readStream();
      const wanted = checkpoints === null ? new Set<number>() : checkpointPositions(checkpoints);
      const keep = (index: number) =>
        wanted.has(index) || (live !== null && (index === live.position || index >= liveCount));
      const { verification, lookup } = await verifyRecordStream(
        stream.records,
        stream.anchor,
        keep,
      );
      return {
        read: { records: lookup, anchor: stream.anchor, missing: stream.missing === true },
        verification,
      };
    }
    const contents = await this.store.read();
    const records = contents.records;
    return {
      read: {
        records: { length: records.length, at: (position) => records[position] },
        anchor: contents.anchor,
        missing: contents.missing === true,
      },
      verification: verifyChain(records, contents.anchor, { lines: contents.lines }),
    };
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
      let position = this.count_;
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
      this.legacy?.push(...chained);
      this.count_ += chained.length;
      this.lastEvent = chained[chained.length - 1];
      for (const watcher of this.watchers) watcher.push(...chained);
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
    records: RecordLookup,
    count: number,
    head: AuditHead | null,
    recent: readonly AuditEvent[],
  ): AuditViolation[] {
    const hashOf = (index: number) => (records.at(index) as { hash?: unknown } | null)?.hash;
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
          eventId: idOf(records.at(head.position)),
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
        recent[position - count] ??
        (position >= inflightFrom ? this.inflight[position - inflightFrom] : undefined);
      const found = hashOf(position);
      if (written === undefined || written.hash !== found) {
        return [
          {
            position,
            eventId: idOf(records.at(position)),
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

/** The stored records a verification looked at, by index (all of them, or only those kept). */
type RecordLookup = AuditRecordLookup;

type StreamingStore = AuditStore & Required<Pick<AuditStore, 'openHead' | 'readEvents'>>;

/** A store that reads where it is (openHead and readEvents): the log keeps no copy of it. */
function streams(store: AuditStore): store is StreamingStore {
  return typeof store.openHead === 'function' && typeof store.readEvents === 'function';
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
