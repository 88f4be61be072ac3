import type { KeyObject } from 'node:crypto';
import {
  checkpointSignatureValid,
  isCheckpointShape,
  type AuditCheckpoint,
} from './audit-checkpoint-record';
import type { AuditViolation, CheckpointSummary } from './audit-verification';
import { AuditFindingMessages } from './audit.messages';
import { keyIdOf, publicKeyTextOf } from './audit-signing';

export {
  CHECKPOINT_TYPE,
  CHECKPOINT_VERSION,
  checkpointSignatureValid,
  checkpointSigningText,
  isCheckpointShape,
  serializeCheckpoint,
  signCheckpoint,
  type AuditCheckpoint,
  type AuditHead,
  type CheckpointReason,
} from './audit-checkpoint-record';

/*
 * Verifying a log against its signed checkpoints (the checkpoint record
 * itself, its signing and its shape are in audit-checkpoint-record.ts).
 */

export interface VerifyCheckpointsOptions {
  /** The keys whose checkpoints are trusted (several after a key rotation). */
  publicKeys: readonly KeyObject[];
  /** No verified checkpoint at all is a violation (the checkpoint file was deleted). */
  requireCheckpoints?: boolean;
  /** An event after the last verified checkpoint is a violation (everything must be signed). */
  requireSignedHead?: boolean;
}

/**
 * The records verifyCheckpoints reads, when the log is streamed rather than
 * held: how many there are, and the record at a position (only those
 * `checkpointPositions` names are asked for; any other may be undefined).
 */
export interface AuditRecordLookup {
  readonly length: number;
  at(position: number): unknown;
}

function isLookup(records: readonly unknown[] | AuditRecordLookup): records is AuditRecordLookup {
  return !Array.isArray(records);
}

/** The positions verifyCheckpoints looks at: each checkpoint's position and count. */
export function checkpointPositions(checkpoints: readonly unknown[]): Set<number> {
  const positions = new Set<number>();
  for (const record of checkpoints) {
    const { position, count } = (record ?? {}) as { position?: unknown; count?: unknown };
    if (Number.isSafeInteger(position)) positions.add(position as number);
    if (Number.isSafeInteger(count)) positions.add(count as number);
  }
  return positions;
}

/**
 * Checks a log's records against its checkpoints. A checkpoint signed by one
 * of `publicKeys` must verify, sign a position the log has, and carry the hash
 * the log holds there. After the last verified checkpoint (in the order
 * written) the log must not go on if that checkpoint is a `close` one: a
 * writer that reopens the log signs an `open` checkpoint first. Checkpoints
 * of other keys are violations: pass every key the log was signed with.
 */
export function verifyCheckpoints(
  records: readonly unknown[] | AuditRecordLookup,
  checkpoints: readonly unknown[],
  options: VerifyCheckpointsOptions,
): { violations: AuditViolation[]; summary: CheckpointSummary } {
  const keys = new Map(options.publicKeys.map((key) => [keyIdOf(key), key]));
  const keyTexts = new Map(options.publicKeys.map((key) => [keyIdOf(key), publicKeyTextOf(key)]));
  const count = records.length;
  const violations: AuditViolation[] = [];

  let verified = 0;
  let signedThrough: number | null = null;
  let last: AuditCheckpoint | null = null;
  checkpoints.forEach((record, index) => {
    const checked = checkCheckpoint(record, index + 1, records, keys, keyTexts, violations);
    if (checked === null) return;
    verified++;
    signedThrough = Math.max(signedThrough ?? -1, checked.position);
    last = checked;
  });

  const lastVerified = last as AuditCheckpoint | null;
  const through = signedThrough as number | null;
  checkLogEnd(records, lastVerified, verified, through, options, violations);
  return {
    violations,
    summary: {
      found: checkpoints.length,
      verified,
      signedThrough: through,
      unsignedEvents: Math.max(0, count - ((through ?? -1) + 1)),
      lastReason: lastVerified?.reason ?? null,
      keyIds: [...keys.keys()],
    },
  };
}

/** The record at a position, of a log held or streamed. */
function recordAt(records: readonly unknown[] | AuditRecordLookup, position: number): unknown {
  return isLookup(records) ? records.at(position) : records[position];
}

/** Adds a violation that names no event. */
function report(
  violations: AuditViolation[],
  position: number,
  problem: AuditViolation['problem'],
  message: string,
  expected: AuditViolation['expected'] = null,
  actual: AuditViolation['actual'] = null,
): void {
  violations.push({ position, eventId: null, problem, message, expected, actual });
}

/**
 * One checkpoint record (`line` of the checkpoint file, 1-based): the
 * checkpoint when it is well formed, signed by a trusted key and matches the
 * log; otherwise null, after reporting why.
 */
function checkCheckpoint(
  record: unknown,
  line: number,
  records: readonly unknown[] | AuditRecordLookup,
  keys: ReadonlyMap<string, KeyObject>,
  keyTexts: ReadonlyMap<string, string>,
  violations: AuditViolation[],
): AuditCheckpoint | null {
  const count = records.length;
  if (!isCheckpointShape(record)) {
    const claimed = (record as { position?: unknown } | null)?.position;
    const at =
      Number.isSafeInteger(claimed) && (claimed as number) >= 0 ? (claimed as number) : count;
    report(
      violations,
      Math.min(at, count),
      'checkpoint-malformed',
      AuditFindingMessages.checkpointMalformed(line),
    );
    return null;
  }
  const key = keys.get(record.keyId);
  if (key === undefined || keyTexts.get(record.keyId) !== record.publicKey) {
    report(
      violations,
      Math.min(record.position, count),
      'checkpoint-signature',
      AuditFindingMessages.checkpointOtherKey(line, record.keyId),
      [...keys.keys()].join(','),
      record.keyId,
    );
    return null;
  }
  if (!checkpointSignatureValid(record, key)) {
    report(
      violations,
      Math.min(record.position, count),
      'checkpoint-signature',
      AuditFindingMessages.checkpointSignature(line),
    );
    return null;
  }
  return checkpointMatchesLog(record, line, records, violations) ? record : null;
}

/** A verified checkpoint must sign a position the log has, with the hash the log holds there. */
function checkpointMatchesLog(
  record: AuditCheckpoint,
  line: number,
  records: readonly unknown[] | AuditRecordLookup,
  violations: AuditViolation[],
): boolean {
  const count = records.length;
  if (record.count !== record.position + 1) {
    report(
      violations,
      record.position,
      'checkpoint-malformed',
      AuditFindingMessages.checkpointCount(line),
    );
    return false;
  }
  if (record.position >= count) {
    report(
      violations,
      count,
      'checkpoint-truncated',
      AuditFindingMessages.checkpointTruncated(line, record.position),
      record.position,
      count - 1,
    );
    return false;
  }
  const held = (recordAt(records, record.position) as { hash?: unknown } | null)?.hash;
  if (held !== record.hash) {
    report(
      violations,
      record.position,
      'checkpoint-mismatch',
      AuditFindingMessages.checkpointMismatch(line, record.position),
      record.hash,
      typeof held === 'string' ? held : null,
    );
    return false;
  }
  return true;
}

/**
 * What the log's end must satisfy given the verified checkpoints: nothing
 * after a `close` one, and, when required, a verified checkpoint at all and
 * one that signs the last event.
 */
function checkLogEnd(
  records: readonly unknown[] | AuditRecordLookup,
  lastVerified: AuditCheckpoint | null,
  verified: number,
  through: number | null,
  options: VerifyCheckpointsOptions,
  violations: AuditViolation[],
): void {
  const count = records.length;
  if (lastVerified !== null && lastVerified.reason === 'close' && count > lastVerified.count) {
    const eventId = (recordAt(records, lastVerified.count) as { id?: unknown } | null)?.id;
    violations.push({
      position: lastVerified.count,
      eventId: typeof eventId === 'string' ? eventId : null,
      problem: 'after-close',
      message: AuditFindingMessages.afterClose(lastVerified.position),
      expected: lastVerified.count,
      actual: count,
    });
  }
  if (options.requireCheckpoints === true && verified === 0) {
    report(violations, 0, 'checkpoint-missing', AuditFindingMessages.checkpointsRequired());
  }
  if (options.requireSignedHead === true && count > 0 && (through ?? -1) < count - 1) {
    report(
      violations,
      (through ?? -1) + 1,
      'unsigned-head',
      AuditFindingMessages.unsignedHead(through, count - 1),
      count - 1,
      through,
    );
  }
}
