import { isDecision } from '../../protocol/decision';
import { AuditMessages } from '../engine.messages';
import { AUDIT_EVENT_KINDS, GENESIS_HASH, computeEventHash, type AuditEvent } from './audit-event';

export type AuditProblem =
  | 'hash-mismatch'
  | 'prev-hash-mismatch'
  | 'position-gap'
  | 'malformed'
  | 'truncated'
  | 'head-mismatch';

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
}

const MAX_REPORTED_VIOLATIONS = 100;

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
 * What stays undetectable: someone able to rewrite the log and recompute every
 * hash after the change, and to rewrite the anchor to match, leaves a valid
 * chain. The anchor only raises the bar from "edit one file" to "edit both";
 * sending anchors elsewhere (a remote service, a signed checkpoint) would close it.
 */
export function verifyChain(
  records: readonly unknown[],
  anchor: AuditAnchor | null = null,
): AuditVerification {
  const findings = new ChainFindings();
  let expectedPosition = 0;
  let expectedPrev = GENESIS_HASH;
  const hashAt = new Map<number, string>();
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    if (!isAuditEventShape(record)) {
      findings.report(malformedRecord(record, index));
      expectedPosition = index + 1;
      continue;
    }
    checkPosition(findings, record, index, expectedPosition);
    checkLink(findings, record, index, expectedPrev);
    checkHash(findings, record, index);
    // Keyed by the recorded position: an anchor names an event, wherever an edit moved it.
    hashAt.set(record.position, record.hash);
    expectedPosition = record.position + 1;
    expectedPrev = record.hash;
  }
  if (anchor !== null) checkAnchor(findings, anchor, hashAt, records.length);
  return findings.verification(records.length, anchor);
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

/** The event's fields must hash to its recorded hash. */
function checkHash(findings: ChainFindings, event: AuditEvent, index: number): void {
  const actualHash = computeEventHash(event);
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
  hashAt: ReadonlyMap<number, string>,
  recordCount: number,
): void {
  const anchored = hashAt.get(anchor.position);
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

function describeProblem(problem: AuditProblem): string {
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
  }
}
