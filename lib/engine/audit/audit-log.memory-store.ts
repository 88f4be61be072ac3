import { AuditMessages } from '../engine.messages';
import type { AuditAnchor } from './audit-chain';
import type { AuditCheckpoint } from './audit-checkpoints';
import type { AuditEvent } from './audit-event';
import { AuditStoreError } from './audit.errors';
import type { AuditStore, AuditStoreContents } from './audit-store';

/** Events in this process's memory: for tests and for apps that keep no audit trail on disk. */
export class MemoryAuditStore implements AuditStore {
  readonly description = 'memory';
  private readonly events: AuditEvent[] = [];
  private anchor: AuditAnchor | null = null;
  private readonly checkpoints: AuditCheckpoint[] = [];
  private closed = false;

  async open(): Promise<AuditEvent[]> {
    this.closed = false;
    return this.events.slice();
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    if (this.closed) throw new AuditStoreError(null, AuditMessages.storeClosed());
    if (events.length === 0) return;
    this.events.push(...events);
    const last = events[events.length - 1];
    this.anchor = { position: last.position, hash: last.hash };
  }

  async read(): Promise<AuditStoreContents> {
    return {
      records: this.events.map((event) => structuredClone(event)),
      anchor: this.anchor,
      tornTail: false,
    };
  }

  async appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    if (this.closed) throw new AuditStoreError(null, AuditMessages.storeClosed());
    this.checkpoints.push(structuredClone(checkpoint));
  }

  async readCheckpoints(): Promise<unknown[]> {
    return this.checkpoints.map((checkpoint) => structuredClone(checkpoint));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
