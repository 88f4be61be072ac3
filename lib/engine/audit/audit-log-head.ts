import type { AuditEventLookup } from './audit-checkpoint-writer';
import type { AuditEvent } from './audit-event';
import type { AuditStore } from './audit-store';
import { checkpointEventsOf, streams } from './audit-store-streams';

/** What a log takes from its store when it opens. */
export interface OpenedLogHead {
  /** Every event, when the log keeps them in memory; else null. */
  events: AuditEvent[] | null;
  count: number;
  last: AuditEvent | null;
  /** How the checkpoint writer reads the opened log: its events, or only those at the checkpoints. */
  lookup: () => Promise<AuditEventLookup>;
}

/**
 * Opens the store: only its head when the store can be read where it is
 * (`openHead` and `readEvents`) and the log is not asked to keep its events
 * (`keepEvents`: retainEvents, never for a shared store); else every event,
 * as a store with only `open` gives them.
 */
export async function openLogHead(store: AuditStore, keepEvents: boolean): Promise<OpenedLogHead> {
  if (!keepEvents && streams(store)) {
    const head = await store.openHead();
    const count = head.count;
    return { events: null, count, last: head.last, lookup: () => checkpointEventsOf(store, count) };
  }
  const events = await store.open();
  const last = events[events.length - 1] ?? null;
  return { events, count: events.length, last, lookup: async () => events };
}
