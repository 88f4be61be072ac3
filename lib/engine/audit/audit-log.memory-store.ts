import { AuditMessages } from '../engine.messages';
import type { AuditAnchor } from './audit-chain';
import type { AuditCheckpoint } from './audit-checkpoints';
import type { AuditEvent } from './audit-event';
import { AuditStoreError } from './audit.errors';
import type { AuditStore, AuditStoreContents, AuditStoreHead } from './audit-store';

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

  async openHead(): Promise<AuditStoreHead> {
    this.closed = false;
    return { count: this.events.length, last: this.events[this.events.length - 1] ?? null };
  }

  /** The events from index `from`, up to the length at the call (appends meanwhile are not seen). */
  async *readEvents(from = 0): AsyncGenerator<AuditEvent> {
    const end = this.events.length;
    for (let index = Math.max(0, from); index < end; index++) yield this.events[index];
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    this.appendNow(events);
  }

  /** append, done before it returns: AuditLog stores an event in the call that appends it. */
  appendNow(events: readonly AuditEvent[]): void {
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
