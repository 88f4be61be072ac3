import { AuditMessages } from '../engine.messages';
import { AuditStoreError } from './audit.errors';
import { chainEvent, type AuditEvent, type UnchainedAuditEvent } from './audit-event';

/** An append waiting in the log's queue: its event, not yet chained, and its caller's promise. */
export interface QueuedAppend {
  event: UnchainedAuditEvent;
  resolve(event: AuditEvent): void;
  reject(error: unknown): void;
}

/** An append stored in the call that made it (AuditLog.appendNow): its outcome, read once it is known. */
export class AppendedNow implements QueuedAppend {
  private stored: AuditEvent | null = null;
  private failed = false;
  private failure: unknown = undefined;

  constructor(readonly event: UnchainedAuditEvent) {}

  resolve(event: AuditEvent): void {
    this.stored = event;
  }

  reject(error: unknown): void {
    this.failed = true;
    this.failure = error;
  }

  /** The stored event; throws the store's refusal. */
  result(): AuditEvent {
    if (this.failed) throw this.failure;
    // Neither answer: never read as stored.
    if (this.stored === null) throw new AuditStoreError(null, AuditMessages.notStoredNow());
    return this.stored;
  }
}

/**
 * The batch's events chained in order, from `position` on, after the event
 * hashed `prevHash`; with `lines`, each one's stored line pushed there too.
 */
export function chainBatch(
  batch: readonly QueuedAppend[],
  position: number,
  prevHash: string,
  lines?: string[],
): AuditEvent[] {
  const chained: AuditEvent[] = [];
  for (const item of batch) {
    const event = chainEvent(item.event, position++, prevHash, lines);
    prevHash = event.hash;
    chained.push(event);
  }
  return chained;
}
