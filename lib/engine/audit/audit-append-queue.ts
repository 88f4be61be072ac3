import { chainEvent, type AuditEvent, type UnchainedAuditEvent } from './audit-event';

/** An append waiting in the log's queue: its event, not yet chained, and its caller's promise. */
export interface QueuedAppend {
  event: UnchainedAuditEvent;
  resolve(event: AuditEvent): void;
  reject(error: unknown): void;
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
