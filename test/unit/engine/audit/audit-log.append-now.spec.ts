/**
 * A store in this process's memory (AuditStore.appendNow) takes an event in
 * the call that appends it, when nothing is queued before it: no batch. The
 * chain, the order and the refusals are those of the batched path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import type { AuditEvent, AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import { AuditStoreError } from '../../../../lib/engine/audit/audit.errors';
import { InvalidParametersError } from '../../../../lib/protocol/provenance.errors';

const input = (action: string): AuditEventInput => ({
  tenantId: 'local',
  sessionId: 's',
  agentId: 'a',
  action,
  parameters: { n: action.length },
  decision: 'ALLOW',
  reason: 'ok',
  kind: 'decision',
});

/** The memory store, counting how its events arrive. */
class CountingMemoryStore extends MemoryAuditStore {
  now = 0;
  batched = 0;
  private inBatch = false;
  override appendNow(events: readonly AuditEvent[]): void {
    // MemoryAuditStore.append stores through appendNow: count only the log's own calls.
    if (!this.inBatch) this.now++;
    super.appendNow(events);
  }
  override async append(events: readonly AuditEvent[]): Promise<void> {
    this.batched++;
    this.inBatch = true;
    try {
      await super.append(events);
    } finally {
      this.inBatch = false;
    }
  }
}

describe('AuditLog over a store that appends now', () => {
  it('stores an event before append returns once open, one event per call', async () => {
    const store = new CountingMemoryStore();
    const log = new AuditLog({ store });
    await log.open();
    const pending = log.append(input('one'));
    expect(log.size).toBe(1);
    expect(log.last?.action).toBe('one');
    await expect(pending).resolves.toMatchObject({ position: 0, action: 'one' });
    expect(store.now).toBe(1);
    expect(store.batched).toBe(0);
  });

  it('keeps call order and one chain for many appends at once, before and after opening', async () => {
    const store = new CountingMemoryStore();
    const log = new AuditLog({ store });
    // Not open yet: the first appends wait in the queue for the opening batch.
    const first = Array.from({ length: 5 }, (_, i) => log.append(input(`early${i}`)));
    const settled = await Promise.all(first);
    const later = await Promise.all(
      Array.from({ length: 50 }, (_, i) => log.append(input(`late${i}`))),
    );
    const all = [...settled, ...later];
    expect(all.map((event) => event.position)).toEqual(all.map((_, i) => i));
    expect(all.map((event) => event.action)).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `early${i}`),
      ...Array.from({ length: 50 }, (_, i) => `late${i}`),
    ]);
    expect(store.batched).toBeGreaterThan(0);
    expect(store.now).toBe(50);
    const stored = (await store.read()).records as AuditEvent[];
    expect(verifyChain(stored).valid).toBe(true);
    expect(await log.verify({ live: true })).toMatchObject({ valid: true });
  });

  it('refuses every later append once the store failed, as the batched path does', async () => {
    const store = new MemoryAuditStore();
    const log = new AuditLog({ store });
    await log.open();
    await log.append(input('kept'));
    const said = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await store.close(); // the store now throws on appendNow
      await expect(log.append(input('lost'))).rejects.toBeInstanceOf(AuditStoreError);
      expect(log.refusal()).toBeInstanceOf(AuditStoreError);
      await expect(log.append(input('after'))).rejects.toThrow(/refus|fail/i);
      expect(said).toHaveBeenCalledTimes(1);
    } finally {
      said.mockRestore();
    }
    expect(log.size).toBe(1);
  });

  it('appendNow: returns the event stored and chained in the call, one chain with append', async () => {
    const store = new CountingMemoryStore();
    const log = new AuditLog({ store });
    await log.open();
    const first = await log.append(input('appended'));
    const now = log.appendNow(input('now'));
    expect(now).toMatchObject({ position: 1, action: 'now', prevHash: first.hash });
    expect(log.size).toBe(2);
    expect(log.last).toBe(now);
    const after = await log.append(input('after'));
    expect(after.prevHash).toBe(now?.hash);
    const stored = (await store.read()).records as AuditEvent[];
    expect(stored.map((event) => event.action)).toEqual(['appended', 'now', 'after']);
    expect(verifyChain(stored).valid).toBe(true);
  });

  it('appendNow: null, with nothing stored, where an event must wait for append', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'append-now-'));
    const onFile = await AuditLog.openFile(path.join(dir, 'audit.jsonl'), { durable: false });
    const unopened = new AuditLog({ store: new MemoryAuditStore() });
    /** A log whose own append (a spy, a subclass) must see every event. */
    class WatchedLog extends AuditLog {
      seen = 0;
      override append(event: AuditEventInput): Promise<AuditEvent> {
        this.seen++;
        return super.append(event);
      }
    }
    const watched = new WatchedLog({ store: new MemoryAuditStore() });
    await watched.open();
    const closing = new AuditLog({ store: new MemoryAuditStore() });
    await closing.open();
    await closing.close();
    try {
      for (const log of [onFile, unopened, watched, closing]) {
        expect(log.storesNow()).toBe(false);
        expect(log.appendNow(input('waits'))).toBeNull();
      }
      expect(onFile.size).toBe(0);
      expect(watched.size).toBe(0);
      // Still refused once the file log has a batch in flight: nothing jumps the queue.
      const queued = onFile.append(input('first'));
      expect(onFile.appendNow(input('second'))).toBeNull();
      await queued;
      expect((await onFile.list()).map((event) => event.action)).toEqual(['first']);
    } finally {
      await onFile.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('appendNow: throws for parameters that cannot be hashed and for a failed store, as append rejects', async () => {
    const store = new MemoryAuditStore();
    const log = new AuditLog({ store });
    await log.open();
    expect(() => log.appendNow({ ...input('bad'), parameters: { n: 10n } })).toThrow(
      InvalidParametersError,
    );
    expect(log.size).toBe(0);
    expect(log.appendNow(input('fine'))?.position).toBe(0);
    const said = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await store.close();
      expect(() => log.appendNow(input('lost'))).toThrow(AuditStoreError);
      // Refused from now on: not stored at once, and append rejects.
      expect(log.storesNow()).toBe(false);
      await expect(log.append(input('after'))).rejects.toThrow(/refus|fail/i);
    } finally {
      said.mockRestore();
    }
    expect(log.size).toBe(1);
  });
});
