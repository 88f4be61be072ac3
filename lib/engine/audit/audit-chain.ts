import { sha256Hex } from '../../protocol/canonical-json';
import { GENESIS_HASH, computeEventHash } from './audit-event';
import { storedRecordTexts } from './audit-event.text';
import { isAuditEventShape } from './audit-event.shape';
import type { AuditEvent } from './audit-event.types';
import {
  MAX_REPORTED_VIOLATIONS,
  describeProblem,
  type AuditAnchor,
  type AuditVerification,
  type AuditViolation,
} from './audit-verification';

export { isAuditEventShape } from './audit-event.shape';
export {
  MAX_REPORTED_VIOLATIONS,
  describeProblem,
  withViolations,
  type AuditAnchor,
  type AuditProblem,
  type AuditVerification,
  type AuditViolation,
  type CheckpointSummary,
} from './audit-verification';

/** Options of verifyChain. */
export interface VerifyChainOptions {
  /**
   * The stored text of each record (its line, without the newline), when the
   * store keeps text: each must be exactly the canonical text of the event it
   * parses to, or the record is reported `non-canonical`.
   */
  lines?: readonly (string | undefined)[];
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
