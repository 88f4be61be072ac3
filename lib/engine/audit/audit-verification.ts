import { AuditMessages } from '../engine.messages';
import { AuditFindingMessages } from './audit.messages';

/*
 * What a verification of an audit log finds: its problems, each violation,
 * the result of verifyChain (with the signed checkpoints' part), and the
 * wording of each problem.
 */

export type AuditProblem =
  | 'hash-mismatch'
  | 'prev-hash-mismatch'
  | 'position-gap'
  | 'malformed'
  | 'truncated'
  | 'head-mismatch'
  /** The line's bytes are not the canonical text of the event it parses to. */
  | 'non-canonical'
  /** The store has no log at all (the file was deleted). */
  | 'missing'
  /** The stored log is not the one the running log wrote (count or last hash differ). */
  | 'live-head-mismatch'
  // Signed checkpoints (audit-checkpoints.ts), checked only with a public key:
  | 'checkpoint-malformed'
  | 'checkpoint-signature'
  | 'checkpoint-truncated'
  | 'checkpoint-mismatch'
  | 'checkpoint-missing'
  | 'after-close'
  | 'unsigned-head';

export interface AuditViolation {
  /** Where in the log the chain breaks: the 0-based index of the event read there. */
  position: number;
  /** The id of the event found there, when it has one. */
  eventId: string | null;
  problem: AuditProblem;
  /** Human-readable explanation of `problem`. */
  message: string;
  expected: string | number | null;
  actual: string | number | null;
}

/**
 * The last event a store acknowledged as durable, kept apart from the log
 * (`<file>.head`). A bare hash chain cannot tell a log whose tail was cut off
 * from a shorter log; the anchor can. It is a checkpoint: the log may run past
 * it (a crash between the log's fsync and the anchor's update), never short of it.
 */
export interface AuditAnchor {
  position: number;
  hash: string;
}

export interface AuditVerification {
  valid: boolean;
  eventsChecked: number;
  /** The first position where the chain breaks, or null when it is valid. */
  firstBrokenPosition: number | null;
  /** In log order; at most MAX_REPORTED_VIOLATIONS. */
  violations: AuditViolation[];
  /** The head anchor compared against, if the store keeps one. */
  anchor: AuditAnchor | null;
  /** What the signed checkpoints prove, when they were checked against a public key. */
  checkpoints?: CheckpointSummary;
}

/** The signed checkpoints' part of a verification (docs/audit.md). */
export interface CheckpointSummary {
  /** Checkpoint records found (well-formed or not). */
  found: number;
  /** Those whose signature verifies under the public key and that match the log. */
  verified: number;
  /** The highest position a verified checkpoint signs, or null when none does. */
  signedThrough: number | null;
  /** Events after `signedThrough`: only hash-chained, not signed. */
  unsignedEvents: number;
  /** Why the last verified checkpoint was written: `count`, `interval`, `open` or `close`. */
  lastReason: string | null;
  /** The ids of the public keys checked against (sha256 of each one's SPKI DER, hex). */
  keyIds: string[];
}

export const MAX_REPORTED_VIOLATIONS = 100;

/**
 * A verification with more violations (the live head's, the checkpoints',
 * a missing file's): merged in position order, `valid` and
 * `firstBrokenPosition` recomputed, the list capped as verifyChain caps it.
 */
export function withViolations(
  verification: AuditVerification,
  extra: readonly AuditViolation[],
): AuditVerification {
  if (extra.length === 0) return verification;
  const violations = [...extra, ...verification.violations].sort((a, b) => a.position - b.position);
  const first = Math.min(verification.firstBrokenPosition ?? Infinity, violations[0].position);
  return {
    ...verification,
    valid: false,
    firstBrokenPosition: first,
    violations: violations.slice(0, MAX_REPORTED_VIOLATIONS + extra.length),
  };
}

/** The wording of a problem, for a violation made outside verifyChain. */
export function describeProblem(problem: AuditProblem): string {
  switch (problem) {
    case 'hash-mismatch':
      return AuditMessages.problemHash();
    case 'prev-hash-mismatch':
      return AuditMessages.problemPrevHash();
    case 'position-gap':
      return AuditMessages.problemPosition();
    case 'malformed':
      return AuditMessages.problemMalformed();
    case 'truncated':
      return AuditMessages.problemTruncated();
    case 'head-mismatch':
      return AuditMessages.problemHeadHash();
    case 'non-canonical':
      return AuditFindingMessages.problemNonCanonical();
    case 'missing':
      return AuditFindingMessages.problemMissing();
    default:
      // The live head's and the checkpoints' violations carry their own words.
      return problem;
  }
}
