import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical-json';
import { signText, verifyText, type AuditSigningKey } from './audit-signing';

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
