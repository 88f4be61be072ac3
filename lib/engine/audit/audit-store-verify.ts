import {
  verifyChain,
  withViolations,
  type AuditAnchor,
  type AuditVerification,
  type AuditViolation,
} from './audit-chain';
import type { AuditEvent } from './audit-event';
import { compareWithLive } from './audit-live-head';
import type { CheckpointWriter } from './audit-checkpoint-writer';
import {
  checkpointPositions,
  verifyCheckpoints,
  type AuditHead,
  type AuditRecordLookup,
} from './audit-checkpoints';
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

/** A verification of the store as it is now, and what its signed checkpoints say. */
export interface StoreFindings {
  read: StoreRead;
  /** The chain's verification, with the checkpoints' summary when the log signs. */
  verification: AuditVerification;
  /** The checkpoints' violations (and those this log wrote that are gone). */
  signed: AuditViolation[];
}

/**
 * Reads the store and verifies it: its chain (readAndVerifyStore) and, when
 * the log signs checkpoints (`writer`), the store's checkpoints against the
 * log's own key and that those it wrote are still there. Checkpoints and the
 * anchor are written after the events they name, so they are read before the
 * log: the log read afterwards holds them.
 */
export async function verifyStoreNow(
  store: AuditStore,
  writer: CheckpointWriter | null,
  live: AuditHead | null,
  liveCount: number,
): Promise<StoreFindings> {
  const checkpoints =
    writer !== null && store.readCheckpoints !== undefined ? await store.readCheckpoints() : null;
  const { read, verification } = await readAndVerifyStore(store, checkpoints, live, liveCount);
  if (checkpoints === null || writer === null) return { read, verification, signed: [] };
  const result = verifyCheckpoints(read.records, checkpoints, {
    publicKeys: [writer.key.publicKey],
  });
  return {
    read,
    verification: { ...verification, checkpoints: result.summary },
    signed: [...result.violations, ...writer.missingWritten(checkpoints)],
  };
}

/** A log's own view of itself, which `verify({ live: true })` compares the store with. */
export interface LiveLog {
  /** The last durable event's position and hash; null for an empty log. */
  head: AuditHead | null;
  count: number;
  /** The batch being written when the store has been read: in the store perhaps, not yet counted. */
  inflight(): readonly AuditEvent[];
}

/**
 * AuditLog.verify: the store as it is now (verifyStoreNow), and with `live`
 * the store compared with the log's own head. Events appended while the
 * store is read are collected through `watchers` (the log pushes every
 * stored event to each list there): the read may hold them.
 */
export async function verifyLogStore(
  store: AuditStore,
  writer: CheckpointWriter | null,
  live: LiveLog | null,
  watchers: Set<AuditEvent[]>,
): Promise<AuditVerification> {
  const recent: AuditEvent[] = [];
  watchers.add(recent);
  let found: StoreFindings;
  try {
    found = await verifyStoreNow(store, writer, live?.head ?? null, live?.count ?? 0);
  } finally {
    watchers.delete(recent);
  }
  const { read, verification, signed } = found;
  const extra: AuditViolation[] = [];
  if (read.missing) extra.push(missingViolation());
  if (live !== null) {
    extra.push(...compareWithLive(read.records, live.count, live.head, recent, live.inflight()));
  }
  extra.push(...signed);
  return withViolations(verification, extra);
}
