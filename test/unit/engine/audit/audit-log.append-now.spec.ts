/**
 * A store in this process's memory (AuditStore.appendNow) takes an event in
 * the call that appends it, when nothing is queued before it: no batch. The
 * chain, the order and the refusals are those of the batched path.
 */
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import type { AuditEvent, AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import { AuditStoreError } from '../../../../lib/engine/audit/audit.errors';

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
});
