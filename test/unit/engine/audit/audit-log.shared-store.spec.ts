/**
 * A store several writers share (AuditStore.appendUnchained): the log lets it
 * chain each batch, and reads `list`/`count` to the store's end (not to the
 * head this process last saw), even when the store has no query of its own.
 * Two logs over one store stand in for two replicas.
 */
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import {
  GENESIS_HASH,
  chainEvent,
  type AuditEvent,
  type UnchainedAuditEvent,
} from '../../../../lib/engine/audit/audit-event';
import { Decision } from '../../../../lib/protocol/decision';

/** One chain in memory that several logs append to: the store chains after its own head. */
class SharedMemoryStore extends MemoryAuditStore {
  private readonly chain: AuditEvent[] = [];

  async appendUnchained(batch: readonly UnchainedAuditEvent[]): Promise<AuditEvent[]> {
    const chained: AuditEvent[] = [];
    for (const event of batch) {
      const last = this.chain[this.chain.length - 1];
      const next = chainEvent(event, this.chain.length, last?.hash ?? GENESIS_HASH);
      this.chain.push(next);
      chained.push(next);
    }
    await this.append(chained);
    return chained;
  }
}

const input = (action: string) => ({
  tenantId: 't',
  sessionId: 's',
  agentId: 'a',
  action,
  parameters: { n: 1 },
  decision: Decision.ALLOW,
  reason: 'r',
  kind: 'decision' as const,
  escalationId: null,
  actorHumanId: null,
});

describe('AuditLog over a shared store', () => {
  it('chains one sequence across two logs, and each lists and counts what the other wrote', async () => {
    const store = new SharedMemoryStore();
    const first = new AuditLog({ store });
    const second = new AuditLog({ store });
    await first.append(input('one'));
    await second.append(input('two'));
    await first.append(input('three'));
    await second.append(input('four'));

    // `first` last wrote position 2; the store holds 4 events.
    expect((await first.list({ limit: 2 })).map((event) => event.action)).toEqual([
      'three',
      'four',
    ]);
    expect((await first.list()).map((event) => event.position)).toEqual([0, 1, 2, 3]);
    expect(await first.count()).toBe(4);
    expect(await second.count({ action: 'one' })).toBe(1);
    const verification = await second.verify();
    expect(verification.violations).toEqual([]);
    expect(verification.valid).toBe(true);
    expect(verification.eventsChecked).toBe(4);
  });
});
