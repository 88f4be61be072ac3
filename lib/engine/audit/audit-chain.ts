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
  const violations: AuditViolation[] = [];
  let firstBrokenPosition: number | null = null;
  const report = (violation: Omit<AuditViolation, 'message'>) => {
    firstBrokenPosition = Math.min(firstBrokenPosition ?? Infinity, violation.position);
    const fromAnchor = violation.problem === 'truncated' || violation.problem === 'head-mismatch';
    if (violations.length < MAX_REPORTED_VIOLATIONS || fromAnchor) {
      violations.push({ ...violation, message: describeProblem(violation.problem) });
    }
  };

  let expectedPosition = 0;
  let expectedPrev = GENESIS_HASH;
  const hashAt = new Map<number, string>();
  for (let index = 0; index < records.length; index++) {
    const record = records[index];
    if (!isAuditEventShape(record)) {
      const id = (record as { id?: unknown } | null)?.id;
      report({
        position: index,
        eventId: typeof id === 'string' ? id : null,
        problem: 'malformed',
        expected: null,
        actual: null,
      });
      expectedPosition = index + 1;
      continue;
    }
    if (record.position !== expectedPosition) {
      report({
        position: index,
        eventId: record.id,
        problem: 'position-gap',
        expected: expectedPosition,
        actual: record.position,
      });
    }
    if (record.prevHash !== expectedPrev) {
      report({
        position: index,
        eventId: record.id,
        problem: 'prev-hash-mismatch',
        expected: expectedPrev,
        actual: record.prevHash,
      });
    }
    const actualHash = computeEventHash(record);
    if (actualHash !== record.hash) {
      report({
        position: index,
        eventId: record.id,
        problem: 'hash-mismatch',
        expected: record.hash,
        actual: actualHash,
      });
    }
    // Keyed by the recorded position: an anchor names an event, wherever an edit moved it.
    hashAt.set(record.position, record.hash);
    expectedPosition = record.position + 1;
    expectedPrev = record.hash;
  }

  if (anchor !== null) {
    const anchored = hashAt.get(anchor.position);
    if (anchored === undefined) {
      report({
        position: records.length,
        eventId: null,
        problem: 'truncated',
        expected: anchor.position,
        actual: records.length - 1,
      });
    } else if (anchored !== anchor.hash) {
      report({
        position: anchor.position,
        eventId: null,
        problem: 'head-mismatch',
        expected: anchor.hash,
        actual: anchored,
      });
    }
  }

  // Violations are found in log order except the anchor's, which may point earlier.
  violations.sort((a, b) => a.position - b.position);
  return {
    valid: firstBrokenPosition === null,
    eventsChecked: records.length,
    firstBrokenPosition,
    violations,
    anchor,
  };
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
