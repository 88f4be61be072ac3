import type { AuditEventLookup } from './audit-checkpoint-writer';
import { checkpointPositions } from './audit-checkpoints';
import type { AuditEvent } from './audit-event';
import type { AuditStore } from './audit-store';

export type StreamingStore = AuditStore & Required<Pick<AuditStore, 'openHead' | 'readEvents'>>;

/** A store that reads where it is (openHead and readEvents): the log keeps no copy of it. */
export function streams(store: AuditStore): store is StreamingStore {
  return typeof store.openHead === 'function' && typeof store.readEvents === 'function';
}

/**
 * The events of a streamed store the checkpoint writer looks at when the log
 * opens: only those at the checkpoints' positions, among the first `count`.
 */
export async function checkpointEventsOf(
  store: StreamingStore,
  count: number,
): Promise<AuditEventLookup> {
  const wanted = checkpointPositions((await store.readCheckpoints?.()) ?? []);
  const kept = new Map<number, AuditEvent>();
  if (wanted.size > 0) {
    let index = 0;
    for await (const event of store.readEvents(0)) {
      if (index >= count) break;
      if (wanted.has(index)) kept.set(index, event);
      index++;
    }
  }
  return { length: count, at: (position) => kept.get(position) };
}

/**
 * The events at indexes `from` to `end` (exclusive): from the log's own copy
 * when it keeps one (`legacy`), else streamed from the store.
 */
export async function* eventsOf(
  store: AuditStore,
  legacy: readonly AuditEvent[] | null,
  from: number,
  end: number,
): AsyncGenerator<AuditEvent> {
  if (legacy !== null || !streams(store)) {
    const events = legacy ?? [];
    for (let index = from; index < Math.min(end, events.length); index++) yield events[index];
    return;
  }
  let index = from;
  if (index >= end) return;
  for await (const event of store.readEvents(from)) {
    yield event;
    if (++index >= end) return;
  }
}
