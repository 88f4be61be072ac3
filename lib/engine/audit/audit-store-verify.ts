import {
  verifyChain,
  type AuditAnchor,
  type AuditVerification,
  type AuditViolation,
} from './audit-chain';
import { checkpointPositions, type AuditHead, type AuditRecordLookup } from './audit-checkpoints';
import type { AuditStore } from './audit-store';
import { verifyRecordStream } from './audit-verify-stream';
import { AuditFindingMessages } from './audit.messages';

/** What a verification read of the store holds: the records it kept, the anchor, whether the log is gone. */
export interface StoreRead {
  /** The stored records a verification looked at, by index (all of them, or only those kept). */
  records: AuditRecordLookup;
  anchor: AuditAnchor | null;
  missing: boolean;
}

/**
 * Reads the store and verifies its chain: streamed when the store can
 * (keeping only the records the checkpoints and the live head look at),
 * else from `read()`.
 */
export async function readAndVerifyStore(
  store: AuditStore,
  checkpoints: readonly unknown[] | null,
  live: AuditHead | null,
  liveCount: number,
): Promise<{ read: StoreRead; verification: AuditVerification }> {
  if (store.readStream !== undefined) {
    const stream = await store.readStream();
    const wanted = checkpoints === null ? new Set<number>() : checkpointPositions(checkpoints);
    const keep = (index: number) =>
      wanted.has(index) || (live !== null && (index === live.position || index >= liveCount));
    const { verification, lookup } = await verifyRecordStream(stream.records, stream.anchor, keep);
    return {
      read: { records: lookup, anchor: stream.anchor, missing: stream.missing === true },
      verification,
    };
  }
  const contents = await store.read();
  const records = contents.records;
  return {
    read: {
      records: { length: records.length, at: (position) => records[position] },
      anchor: contents.anchor,
      missing: contents.missing === true,
    },
    verification: verifyChain(records, contents.anchor, { lines: contents.lines }),
  };
}

/** The finding for a store that no longer has a log at all. */
export function missingViolation(): AuditViolation {
  return {
    position: 0,
    eventId: null,
    problem: 'missing',
    message: AuditFindingMessages.problemMissing(),
    expected: null,
    actual: null,
  };
}
