/*
 * Issue 13, step 2: AuditLog keeps no copy of the whole log (the default
 * since issue 13: `retainEvents` is false unless set; true keeps every event
 * in memory, the earlier default). With a store that reads
 * where it is (openHead, readEvents, readStream), `list`, `count` and `verify`
 * pull the store one event at a time; the results are the same as
 * with a store of the older interface (only open/append/read/close), which
 * still works through the fallback (the log then keeps its events, as before).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEvent, AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { FileAuditStore } from '../../../../lib/engine/audit/audit-log.file-store';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import type {
  AuditStore,
  AuditStoreContents,
  AuditStoreHead,
  AuditStoreStream,
} from '../../../../lib/engine/audit/audit-store';

const input = (i: number): AuditEventInput => ({
  tenantId: 't',
  sessionId: `s${i % 3}`,
  agentId: 'a',
  action: i % 2 === 0 ? 'files.read' : 'payments.initiate',
  parameters: { i },
  decision: i % 5 === 0 ? 'BLOCK' : 'ALLOW',
  reason: 'r',
  kind: 'decision',
});

/** A file store whose streamed reads count the events handed out and not yet passed. */
class CountingStore implements AuditStore {
  readonly description: string;
  outstanding = 0;
  most = 0;
  pulled = 0;
  private readonly inner: FileAuditStore;

  constructor(file: string) {
    this.inner = new FileAuditStore(file, { durable: false });
    this.description = file;
  }
  open(): Promise<AuditEvent[]> {
    throw new Error('the log must not ask for every event');
  }
  openHead(): Promise<AuditStoreHead> {
    return this.inner.openHead();
  }
  async *readEvents(from?: number): AsyncGenerator<AuditEvent> {
    for await (const event of this.inner.readEvents(from)) yield* this.counted(event);
  }
  async readStream(): Promise<AuditStoreStream> {
    const stream = await this.inner.readStream();
    const counted = <T>(value: T) => this.counted(value);
    async function* records() {
      for await (const record of stream.records) yield* counted(record);
    }
    return { ...stream, records: records() };
  }
  read(): Promise<AuditStoreContents> {
    throw new Error('the log must not read the whole store');
  }
  append(events: readonly AuditEvent[]): Promise<void> {
    return this.inner.append(events);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  private *counted<T>(value: T): Generator<T> {
    this.outstanding++;
    this.pulled++;
    this.most = Math.max(this.most, this.outstanding);
    try {
      yield value;
    } finally {
      this.outstanding--;
    }
  }
}

/** The interface before 0.3: open() returns every event. */
class LegacyStore implements AuditStore {
  readonly description = 'legacy';
  private readonly inner = new MemoryAuditStore();
  open(): Promise<AuditEvent[]> {
    return this.inner.open();
  }
  append(events: readonly AuditEvent[]): Promise<void> {
    return this.inner.append(events);
  }
  read(): Promise<AuditStoreContents> {
    return this.inner.read();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('AuditLog keeps no copy of the log', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-bounded-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function fill(log: AuditLog, count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, i) => log.append(input(i))));
  }

  it('verify, list and count pull the store one event at a time', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const writer = await AuditLog.openFile(file, { durable: false });
    await fill(writer, 5000);
    await writer.close();

    const store = new CountingStore(file);
    const log = new AuditLog({ store, retainEvents: false });
    await log.open();
    expect(log.size).toBe(5000);
    expect(log.last?.position).toBe(4999);
    expect(store.pulled).toBe(0); // opening read the file, but handed no event to the log

    const verification = await log.verify({ live: true });
    expect(verification.valid).toBe(true);
    expect(verification.eventsChecked).toBe(5000);
    expect(await log.count({ decision: 'BLOCK' })).toBe(1000);
    const recent = await log.list({ action: 'payments.initiate', limit: 3 });
    expect(recent.map((event) => event.position)).toEqual([4995, 4997, 4999]);
    const page = await log.list({ offset: 10, limit: 2 });
    expect(page.map((event) => event.position)).toEqual([10, 11]);
    expect(store.most).toBe(1);

    await log.append(input(5000));
    expect(log.size).toBe(5001);
    expect((await log.verify({ live: true })).valid).toBe(true);
    await log.close();
  });

  it('by default the log keeps no copy: it opens by the head and lists from the store', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const writer = await AuditLog.openFile(file, { durable: false });
    await fill(writer, 200);
    await writer.close();

    // CountingStore refuses open() (every event) and read() (the whole file).
    const store = new CountingStore(file);
    const log = new AuditLog({ store });
    await log.open();
    expect(log.size).toBe(200);
    expect(store.pulled).toBe(0);
    expect((await log.list({ limit: 2 })).map((event) => event.position)).toEqual([198, 199]);
    expect(await log.count({ decision: 'BLOCK' })).toBe(40);
    expect(store.most).toBe(1);
    await log.close();
  });

  it('retainEvents: true keeps the events it wrote; the default lists what the file holds now', async () => {
    const retained = path.join(dir, 'retained.jsonl');
    const streamed = path.join(dir, 'streamed.jsonl');
    const keeping = new AuditLog({
      store: new FileAuditStore(retained, { durable: false }),
      retainEvents: true,
    });
    const reading = new AuditLog({ store: new FileAuditStore(streamed, { durable: false }) });
    for (const log of [keeping, reading]) await fill(log, 10);
    // Both files cut to their first 3 lines behind the logs' backs.
    for (const file of [retained, streamed]) {
      const lines = fs.readFileSync(file, 'utf8').split('\n').slice(0, 3);
      fs.writeFileSync(file, lines.map((line) => `${line}\n`).join(''));
    }
    expect((await keeping.list()).map((event) => event.position)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(await keeping.count()).toBe(10);
    expect((await reading.list()).map((event) => event.position)).toEqual([0, 1, 2]);
    expect(await reading.count()).toBe(3);
    // Either way the cut is found when the file is compared with the live head.
    expect((await keeping.verify({ live: true })).valid).toBe(false);
    expect((await reading.verify({ live: true })).valid).toBe(false);
    await keeping.close();
    await reading.close();
  });

  it('verify streams the file store also when the log keeps its events (retainEvents: true)', async () => {
    class NoWholeRead extends FileAuditStore {
      override read(): Promise<AuditStoreContents> {
        throw new Error('verify must not read the whole file');
      }
    }
    const log = new AuditLog({
      store: new NoWholeRead(path.join(dir, 'audit.jsonl'), { durable: false }),
      retainEvents: true,
    });
    await fill(log, 50);
    const verification = await log.verify({ live: true });
    expect(verification.valid).toBe(true);
    expect(verification.eventsChecked).toBe(50);
    await log.close();
  });

  it('a store of the older interface works, with the same results', async () => {
    const legacy = new AuditLog({ store: new LegacyStore() });
    const streamed = new AuditLog({ store: new MemoryAuditStore(), retainEvents: false });
    for (const log of [legacy, streamed]) await fill(log, 300);
    const queries = [
      {},
      { limit: 7 },
      { offset: 290 },
      { sessionId: 's1', limit: 4 },
      { decision: 'BLOCK' as const, offset: 5, limit: 3 },
      { limit: 0 },
    ];
    for (const query of queries) {
      const a = (await legacy.list(query)).map((event) => event.position);
      const b = (await streamed.list(query)).map((event) => event.position);
      expect(b).toEqual(a);
    }
    expect(await streamed.count({ sessionId: 's2' })).toBe(await legacy.count({ sessionId: 's2' }));
    expect((await legacy.verify({ live: true })).valid).toBe(true);
    expect((await streamed.verify({ live: true })).valid).toBe(true);
    expect(legacy.size).toBe(300);
    expect(streamed.last?.position).toBe(299);
    await legacy.close();
    await streamed.close();
  });
});
