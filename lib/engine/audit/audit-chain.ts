import { sha256Hex } from '../../protocol/canonical-json';
import { isDecision } from '../../protocol/decision';
import { AuditMessages } from '../engine.messages';
import {
  AUDIT_EVENT_KINDS,
  GENESIS_HASH,
  computeEventHash,
  storedRecordTexts,
  type AuditEvent,
} from './audit-event';
import { AuditFindingMessages } from './audit.messages';

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

/** Options of verifyChain. */
export interface VerifyChainOptions {
  /**
   * The stored text of each record (its line, without the newline), when the
   * store keeps text: each must be exactly the canonical text of the event it
   * parses to, or the record is reported `non-canonical`.
   */
  lines?: readonly (string | undefined)[];
}

export const MAX_REPORTED_VIOLATIONS = 100;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True when a parsed record has every field of an event with the right type. */
export function isAuditEventShape(record: unknown): record is AuditEvent {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return false;
  const e = record as Record<string, unknown>;
  const isString = (v: unknown) => typeof v === 'string';
  const isNullableString = (v: unknown) => v === null || typeof v === 'string';
  return (
    Number.isSafeInteger(e.position) &&
    (e.position as number) >= 0 &&
    isString(e.id) &&
    isString(e.timestamp) &&
    isString(e.tenantId) &&
    isString(e.sessionId) &&
    isString(e.agentId) &&
    isString(e.action) &&
    (e.parameters === null || (typeof e.parameters === 'object' && !Array.isArray(e.parameters))) &&
    isString(e.payloadHash) &&
    isDecision(e.decision) &&
    isString(e.reason) &&
    isNullableString(e.escalationId) &&
    isNullableString(e.actorHumanId) &&
    (e.approverReason === undefined || isNullableString(e.approverReason)) &&
    AUDIT_EVENT_KINDS.includes(e.kind as AuditEvent['kind']) &&
    typeof e.prevHash === 'string' &&
    SHA256_HEX.test(e.prevHash) &&
    typeof e.hash === 'string' &&
    SHA256_HEX.test(e.hash)
  );
}

/**
 * Checks a log, record by record, in the order it is stored. Every record must
 * be a well-formed event at the next position, linked to the previous event's
 * recorded hash, and hash to its own recorded hash; the last position must
 * reach the anchor's. After a break, checking resumes from the record found
 * there (so one removed event yields one break, not a cascade), and
 * `firstBrokenPosition` names the first.
 *
 * With `lines`, each stored line must also be exactly the canonical text of
 * the event it parses to (`non-canonical` otherwise).
 *
 * What stays undetectable here: someone able to rewrite the log and recompute
 * every hash after the change, and to rewrite the anchor to match, leaves a
 * valid chain. The anchor only raises the bar from "edit one file" to "edit
 * both"; signed checkpoints (verifyCheckpoints, docs/audit.md) close it for
 * everything up to the last checkpoint.
 */
export function verifyChain(
  records: readonly unknown[],
  anchor: AuditAnchor | null = null,
  options: VerifyChainOptions = {},
): AuditVerification {
  const lines = options.lines;
  const verifier = new ChainVerifier(anchor);
  for (let index = 0; index < records.length; index++)
    verifier.push(records[index], lines?.[index]);
  return verifier.finish();
}

/**
 * verifyChain one record at a time, for a log read as a stream: it holds the
 * previous record's position and hash and the anchored event's hash, never
 * the log, so a log of any length is checked in constant memory. Push every
 * record in stored order (with its stored line when the store keeps text),
 * then `finish()`; the result is exactly verifyChain's.
 */
export class ChainVerifier {
  private readonly findings = new ChainFindings();
  private expectedPosition = 0;
  private expectedPrev = GENESIS_HASH;
  private count = 0;
  /** The hash of the last record found at the anchored position (an edit may move it). */
  private anchored: string | undefined;

  constructor(private readonly anchor: AuditAnchor | null = null) {}

  /** Records pushed so far. */
  get checked(): number {
    return this.count;
  }

  push(record: unknown, line?: string): void {
    const index = this.count++;
    if (!isAuditEventShape(record)) {
      this.findings.report(malformedRecord(record, index));
      this.expectedPosition = index + 1;
      return;
    }
    checkPosition(this.findings, record, index, this.expectedPosition);
    checkLink(this.findings, record, index, this.expectedPrev);
    checkHash(this.findings, record, index, line);
    // By the recorded position: an anchor names an event, wherever an edit moved it.
    if (this.anchor !== null && record.position === this.anchor.position) {
      this.anchored = record.hash;
    }
    this.expectedPosition = record.position + 1;
    this.expectedPrev = record.hash;
  }

  finish(): AuditVerification {
    if (this.anchor !== null) checkAnchor(this.findings, this.anchor, this.anchored, this.count);
    return this.findings.verification(this.count, this.anchor);
  }
}

type Finding = Omit<AuditViolation, 'message'>;

/** The violations found so far, in the order found, and the first position that broke. */
class ChainFindings {
  private readonly violations: AuditViolation[] = [];
  private firstBrokenPosition: number | null = null;

  /** Every finding breaks the chain; past MAX_REPORTED_VIOLATIONS only the anchor's are still listed. */
  report(finding: Finding): void {
    this.firstBrokenPosition = Math.min(this.firstBrokenPosition ?? Infinity, finding.position);
    const fromAnchor = finding.problem === 'truncated' || finding.problem === 'head-mismatch';
    if (this.violations.length < MAX_REPORTED_VIOLATIONS || fromAnchor) {
      this.violations.push({ ...finding, message: describeProblem(finding.problem) });
    }
  }

  verification(eventsChecked: number, anchor: AuditAnchor | null): AuditVerification {
    // Violations are found in log order except the anchor's, which may point earlier.
    this.violations.sort((a, b) => a.position - b.position);
    return {
      valid: this.firstBrokenPosition === null,
      eventsChecked,
      firstBrokenPosition: this.firstBrokenPosition,
      violations: this.violations,
      anchor,
    };
  }
}

/** A record that is not an event at all; it keeps its id, when it has a string one. */
function malformedRecord(record: unknown, index: number): Finding {
  const id = (record as { id?: unknown } | null)?.id;
  return {
    position: index,
    eventId: typeof id === 'string' ? id : null,
    problem: 'malformed',
    expected: null,
    actual: null,
  };
}

/** The event must sit at the position after the previous record's. */
function checkPosition(
  findings: ChainFindings,
  event: AuditEvent,
  index: number,
  expectedPosition: number,
): void {
  if (event.position === expectedPosition) return;
  findings.report({
    position: index,
    eventId: event.id,
    problem: 'position-gap',
    expected: expectedPosition,
    actual: event.position,
  });
}

/** The event must link to the previous event's recorded hash (the genesis hash for the first). */
function checkLink(
  findings: ChainFindings,
  event: AuditEvent,
  index: number,
  expectedPrev: string,
): void {
  if (event.prevHash === expectedPrev) return;
  findings.report({
    position: index,
    eventId: event.id,
    problem: 'prev-hash-mismatch',
    expected: expectedPrev,
    actual: event.prevHash,
  });
}

/**
 * The event's fields must hash to its recorded hash; and when its stored line
 * is known, the line must be exactly the canonical text of the event (the
 * writer writes nothing else), so a duplicate key, an escape or a changed
 * number that parses to the same event is still found.
 */
function checkHash(
  findings: ChainFindings,
  event: AuditEvent,
  index: number,
  line: string | undefined,
): void {
  let actualHash: string;
  if (line === undefined) {
    actualHash = computeEventHash(event);
  } else {
    const texts = storedRecordTexts(event as unknown as Record<string, unknown>);
    actualHash = sha256Hex(texts.body);
    if (texts.line !== line) {
      findings.report({
        position: index,
        eventId: event.id,
        problem: 'non-canonical',
        expected: null,
        actual: null,
      });
    }
  }
  if (actualHash === event.hash) return;
  findings.report({
    position: index,
    eventId: event.id,
    problem: 'hash-mismatch',
    expected: event.hash,
    actual: actualHash,
  });
}

/** The log must reach the anchored position, and the event recorded there must carry the anchored hash. */
function checkAnchor(
  findings: ChainFindings,
  anchor: AuditAnchor,
  anchored: string | undefined,
  recordCount: number,
): void {
  if (anchored === undefined && anchor.position < recordCount) {
    // The log is long enough: the record where the anchored event belongs is
    // damaged or moved, and was reported as such where it is.
    return;
  }
  if (anchored === undefined) {
    findings.report({
      position: recordCount,
      eventId: null,
      problem: 'truncated',
      expected: anchor.position,
      actual: recordCount - 1,
    });
  } else if (anchored !== anchor.hash) {
    findings.report({
      position: anchor.position,
      eventId: null,
      problem: 'head-mismatch',
      expected: anchor.hash,
      actual: anchored,
    });
  }
}

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
