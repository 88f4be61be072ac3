import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical-json';
import type { AuditViolation, CheckpointSummary } from './audit-chain';
import { AuditFindingMessages } from './audit.messages';
import {
  keyIdOf,
  publicKeyTextOf,
  signText,
  verifyText,
  type AuditSigningKey,
} from './audit-signing';

/*
 * Signed checkpoints (docs/audit.md). Every so many events, every so many
 * seconds, when a log is opened and when it is closed, the log's head (the
 * last durable position, its hash, the event count) is signed with Ed25519.
 * A verifier holding only the public key can then tell, for every event up to
 * the last checkpoint, that the log is the one the key's holder wrote: a
 * consistent rewrite, a cut tail with a rewritten anchor and events appended
 * after a clean close are found, which a hash chain and an anchor kept next to
 * the log cannot find.
 */

export const CHECKPOINT_TYPE = 'provenance.audit.checkpoint';
export const CHECKPOINT_VERSION = 1;

/** Prefixed to the canonical JSON that is signed, so a checkpoint signature is good for nothing else. */
const SIGNING_DOMAIN = 'provenance.audit.checkpoint.v1\n';

/** Why a checkpoint was written. */
export type CheckpointReason = 'count' | 'interval' | 'open' | 'close';

const REASONS: readonly string[] = ['count', 'interval', 'open', 'close'];

/**
 * One line of `<audit file>.checkpoints`. `signature` is the Ed25519
 * signature of `provenance.audit.checkpoint.v1\n` followed by the canonical
 * JSON of every other field (the same canonical JSON as the events').
 */
export interface AuditCheckpoint {
  type: typeof CHECKPOINT_TYPE;
  v: typeof CHECKPOINT_VERSION;
  /** The last event signed: its position and hash. */
  position: number;
  hash: string;
  /** Events in the log up to and including `position`: position + 1. */
  count: number;
  /** When it was signed, ISO 8601 UTC. */
  time: string;
  /** The tenant whose log this is, or null when the log was given none. */
  tenantId: string | null;
  reason: CheckpointReason;
  /** sha256 of the public key's SPKI DER, hex. */
  keyId: string;
  /** The public key's SPKI DER, base64: which key signed, never a reason to trust it. */
  publicKey: string;
  /** base64 Ed25519 signature. */
  signature: string;
}

/** The head of a log: its last durable event. */
export interface AuditHead {
  position: number;
  hash: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The exact text a checkpoint's signature covers. */
export function checkpointSigningText(checkpoint: Record<string, unknown>): string {
  const { signature: _signature, ...body } = checkpoint;
  return SIGNING_DOMAIN + canonicalJson(body);
}

/** Signs a log's head. */
export function signCheckpoint(
  head: AuditHead,
  key: AuditSigningKey,
  reason: CheckpointReason,
  tenantId: string | null,
  now: Date = new Date(),
): AuditCheckpoint {
  const body: Omit<AuditCheckpoint, 'signature'> = {
    type: CHECKPOINT_TYPE,
    v: CHECKPOINT_VERSION,
    position: head.position,
    hash: head.hash,
    count: head.position + 1,
    time: now.toISOString(),
    tenantId,
    reason,
    keyId: key.keyId,
    publicKey: key.publicKeyText,
  };
  const signature = signText(checkpointSigningText(body), key.privateKey);
  return { ...body, signature };
}

/** The line a checkpoint is stored as: its canonical JSON, then '\n'. */
export function serializeCheckpoint(checkpoint: AuditCheckpoint): string {
  return `${canonicalJson(checkpoint)}\n`;
}

/** True when a parsed record has every field of a checkpoint with the right type. */
export function isCheckpointShape(record: unknown): record is AuditCheckpoint {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return false;
  const c = record as Record<string, unknown>;
  return (
    c.type === CHECKPOINT_TYPE &&
    c.v === CHECKPOINT_VERSION &&
    Number.isSafeInteger(c.position) &&
    (c.position as number) >= 0 &&
    typeof c.hash === 'string' &&
    SHA256_HEX.test(c.hash) &&
    Number.isSafeInteger(c.count) &&
    typeof c.time === 'string' &&
    (c.tenantId === null || typeof c.tenantId === 'string') &&
    typeof c.reason === 'string' &&
    REASONS.includes(c.reason) &&
    typeof c.keyId === 'string' &&
    typeof c.publicKey === 'string' &&
    typeof c.signature === 'string'
  );
}

/** Whether the checkpoint's signature verifies under `publicKey` (whatever key it names). */
export function checkpointSignatureValid(
  checkpoint: AuditCheckpoint,
  publicKey: KeyObject,
): boolean {
  return verifyText(
    checkpointSigningText(checkpoint as unknown as Record<string, unknown>),
    checkpoint.signature,
    publicKey,
  );
}

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
  const recordAt = (position: number): unknown =>
    isLookup(records) ? records.at(position) : records[position];
  const violations: AuditViolation[] = [];
  const report = (
    position: number,
    problem: AuditViolation['problem'],
    message: string,
    expected: AuditViolation['expected'] = null,
    actual: AuditViolation['actual'] = null,
  ) => violations.push({ position, eventId: null, problem, message, expected, actual });

  let verified = 0;
  let signedThrough: number | null = null;
  let last: AuditCheckpoint | null = null;
  checkpoints.forEach((record, index) => {
    const line = index + 1;
    if (!isCheckpointShape(record)) {
      const claimed = (record as { position?: unknown } | null)?.position;
      const at =
        Number.isSafeInteger(claimed) && (claimed as number) >= 0 ? (claimed as number) : count;
      report(
        Math.min(at, count),
        'checkpoint-malformed',
        AuditFindingMessages.checkpointMalformed(line),
      );
      return;
    }
    const key = keys.get(record.keyId);
    if (key === undefined || keyTexts.get(record.keyId) !== record.publicKey) {
      report(
        Math.min(record.position, count),
        'checkpoint-signature',
        AuditFindingMessages.checkpointOtherKey(line, record.keyId),
        [...keys.keys()].join(','),
        record.keyId,
      );
      return;
    }
    if (!checkpointSignatureValid(record, key)) {
      report(
        Math.min(record.position, count),
        'checkpoint-signature',
        AuditFindingMessages.checkpointSignature(line),
      );
      return;
    }
    if (record.count !== record.position + 1) {
      report(record.position, 'checkpoint-malformed', AuditFindingMessages.checkpointCount(line));
      return;
    }
    if (record.position >= count) {
      report(
        count,
        'checkpoint-truncated',
        AuditFindingMessages.checkpointTruncated(line, record.position),
        record.position,
        count - 1,
      );
      return;
    }
    const held = (recordAt(record.position) as { hash?: unknown } | null)?.hash;
    if (held !== record.hash) {
      report(
        record.position,
        'checkpoint-mismatch',
        AuditFindingMessages.checkpointMismatch(line, record.position),
        record.hash,
        typeof held === 'string' ? held : null,
      );
      return;
    }
    verified++;
    signedThrough = Math.max(signedThrough ?? -1, record.position);
    last = record;
  });

  const lastVerified = last as AuditCheckpoint | null;
  if (lastVerified !== null && lastVerified.reason === 'close' && count > lastVerified.count) {
    const eventId = (recordAt(lastVerified.count) as { id?: unknown } | null)?.id;
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
    report(0, 'checkpoint-missing', AuditFindingMessages.checkpointsRequired());
  }
  const through = signedThrough as number | null;
  if (options.requireSignedHead === true && count > 0 && (through ?? -1) < count - 1) {
    report(
      (through ?? -1) + 1,
      'unsigned-head',
      AuditFindingMessages.unsignedHead(through, count - 1),
      count - 1,
      through,
    );
  }
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
