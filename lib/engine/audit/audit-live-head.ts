import type { AuditViolation } from './audit-chain';
import type { AuditHead, AuditRecordLookup } from './audit-checkpoints';
import type { AuditEvent } from './audit-event';
import { AuditFindingMessages } from './audit.messages';

/**
 * The store against this log's own head, taken before the store was read
 * (`count` events, the last `head`): the store must hold that event there,
 * and any event after it must be one this log wrote since (appends go on
 * while the store is read; `inflight` is the batch being written).
 */
export function compareWithLive(
  records: AuditRecordLookup,
  count: number,
  head: AuditHead | null,
  recent: readonly AuditEvent[],
  inflight: readonly AuditEvent[],
): AuditViolation[] {
  const hashOf = (index: number) => (records.at(index) as { hash?: unknown } | null)?.hash;
  if (records.length < count) {
    return [
      {
        position: records.length,
        eventId: null,
        problem: 'live-head-mismatch',
        message: AuditFindingMessages.liveShorter(count, records.length),
        expected: count,
        actual: records.length,
      },
    ];
  }
  if (head !== null && hashOf(head.position) !== head.hash) {
    const found = hashOf(head.position);
    return [
      {
        position: head.position,
        eventId: idOf(records.at(head.position)),
        problem: 'live-head-mismatch',
        message: AuditFindingMessages.liveOtherHead(head.position),
        expected: head.hash,
        actual: typeof found === 'string' ? found : null,
      },
    ];
  }
  const inflightFrom = inflight[0]?.position ?? Infinity;
  for (let position = count; position < records.length; position++) {
    const written =
      recent[position - count] ??
      (position >= inflightFrom ? inflight[position - inflightFrom] : undefined);
    const found = hashOf(position);
    if (written === undefined || written.hash !== found) {
      return [
        {
          position,
          eventId: idOf(records.at(position)),
          problem: 'live-head-mismatch',
          message: AuditFindingMessages.liveUnknown(position),
          expected: written?.hash ?? null,
          actual: typeof found === 'string' ? found : null,
        },
      ];
    }
  }
  return [];
}

function idOf(record: unknown): string | null {
  const id = (record as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}
