import type { AuditEvent, AuditEventKind } from '../engine/audit/audit-event';
import { isAuditEventShape } from '../engine/audit/audit-event.shape';
import { EmbeddedGatewayMessages } from '../engine/engine.messages';
import type { CompiledPolicy, Outcome } from '../engine/policy';

/**
 * The replay of `provenance policy backtest`: every recorded call of an
 * audit log decided again by a candidate policy, one event at a time (the
 * log is streamed, never held), and what would change.
 *
 * Which events are calls: the first event each call wrote, which records
 * what the enforced policy said about it.
 * - `decision`: the policy said ALLOW or BLOCK (recorded as such). Except an
 *   idempotency conflict, a BLOCK of the engine's own that no policy decided.
 * - `escalation.pending`: the policy said ESCALATE (a human was asked).
 * - `grant.used`: the policy said ESCALATE and a reviewer's grant stood in for
 *   the human (the event records ALLOW, the policy's word was ESCALATE).
 * Not calls: an escalation's end (approved, rejected, expired, withdrawn:
 * the human's word on a call already counted), a grant created or revoked
 * (a reviewer's act), `decision.replayed` (an idempotent repeat of an
 * earlier answer, not decided again) and `call.refused` (a call stopped after
 * its decision, which is counted already).
 */

export const TRANSITIONS: readonly (readonly [Outcome, Outcome])[] = [
  ['ALLOW', 'BLOCK'],
  ['ALLOW', 'ESCALATE'],
  ['ESCALATE', 'BLOCK'],
  ['ESCALATE', 'ALLOW'],
  ['BLOCK', 'ALLOW'],
  ['BLOCK', 'ESCALATE'],
];

/** Distinct recorded policy hashes kept for the report; more are counted, not named. */
const MAX_RECORDED_POLICIES = 20;

export interface BacktestExample {
  position: number;
  id: string;
  timestamp: string;
  kind: AuditEventKind;
  action: string;
  sessionId: string;
  agentId: string;
  recorded: { decision: Outcome; reason: string };
  candidate: { decision: Outcome; reason: string; ruleIndex: number };
}

export interface BacktestTransition {
  from: Outcome;
  to: Outcome;
  count: number;
  examples: BacktestExample[];
}

export interface RecordedPolicy {
  hash: string;
  version: string | null;
  calls: number;
}

export interface BacktestReport {
  candidate: { name: string; source: string | null; hash: string; version: string | null };
  /** Every record read, well-formed or not. */
  eventsRead: number;
  /** Records that are not events (a damaged line, a row that does not parse). */
  malformed: number;
  calls: number;
  unchanged: number;
  unchangedByDecision: Record<Outcome, number>;
  changed: number;
  /** Only the transitions that happened, in TRANSITIONS order. */
  transitions: BacktestTransition[];
  /** The events that are not calls, by kind (and `idempotency conflict`). */
  skipped: Record<string, number>;
  /** The policies the calls were recorded with, when events name them (policyHash). */
  recordedPolicies: RecordedPolicy[];
  /** Calls whose event names no policy hash (written before events recorded one). */
  callsWithoutPolicyHash: number;
  /** Calls with a policy hash beyond the first MAX_RECORDED_POLICIES distinct ones. */
  callsWithOtherPolicies: number;
}

/** The policy's word on a recorded call, or null when the event is not a call. */
export function recordedVerdict(event: AuditEvent): Outcome | null {
  switch (event.kind) {
    case 'decision':
      return event.reason === EmbeddedGatewayMessages.idempotencyConflict() ? null : event.decision;
    case 'escalation.pending':
    case 'grant.used':
      return 'ESCALATE';
    default:
      return null;
  }
}

/** Replays `records` (parsed events, in order) against `candidate`. */
export async function backtest(
  candidate: CompiledPolicy,
  records: AsyncIterable<unknown>,
  examplesPerTransition: number,
): Promise<BacktestReport> {
  const report = emptyReport(candidate);
  const byTransition = new Map<string, BacktestTransition>();
  const policies = new Map<string, RecordedPolicy>();
  for await (const record of records) {
    report.eventsRead++;
    if (!isAuditEventShape(record)) {
      report.malformed++;
      continue;
    }
    const recorded = recordedVerdict(record);
    if (recorded === null) {
      const why = record.kind === 'decision' ? 'idempotency conflict' : record.kind;
      report.skipped[why] = (report.skipped[why] ?? 0) + 1;
      continue;
    }
    report.calls++;
    notePolicy(record, report, policies);
    const verdict = candidate.evaluate(record.action, record.parameters);
    if (verdict.decision === recorded) {
      report.unchanged++;
      report.unchangedByDecision[recorded]++;
      continue;
    }
    report.changed++;
    const key = `${recorded}>${verdict.decision}`;
    let transition = byTransition.get(key);
    if (transition === undefined) {
      transition = { from: recorded, to: verdict.decision, count: 0, examples: [] };
      byTransition.set(key, transition);
    }
    transition.count++;
    if (transition.examples.length < examplesPerTransition) {
      transition.examples.push({
        position: record.position,
        id: record.id,
        timestamp: record.timestamp,
        kind: record.kind,
        action: record.action,
        sessionId: record.sessionId,
        agentId: record.agentId,
        recorded: { decision: recorded, reason: record.reason },
        candidate: {
          decision: verdict.decision,
          reason: verdict.reason,
          ruleIndex: verdict.ruleIndex,
        },
      });
    }
  }
  report.transitions = TRANSITIONS.map(([from, to]) => byTransition.get(`${from}>${to}`)).filter(
    (t): t is BacktestTransition => t !== undefined,
  );
  report.recordedPolicies = [...policies.values()];
  return report;
}

function emptyReport(candidate: CompiledPolicy): BacktestReport {
  return {
    candidate: {
      name: candidate.document.name,
      source: candidate.source,
      hash: candidate.hash,
      version: candidate.version,
    },
    eventsRead: 0,
    malformed: 0,
    calls: 0,
    unchanged: 0,
    unchangedByDecision: { ALLOW: 0, BLOCK: 0, ESCALATE: 0 },
    changed: 0,
    transitions: [],
    skipped: {},
    recordedPolicies: [],
    callsWithoutPolicyHash: 0,
    callsWithOtherPolicies: 0,
  };
}

/** Counts the policy an event says it was decided with (policyHash, policyVersion), if it says. */
function notePolicy(
  event: AuditEvent,
  report: BacktestReport,
  policies: Map<string, RecordedPolicy>,
): void {
  // The event passed isAuditEventShape: a hash is SHA-256 hex, its version text or null.
  const { policyHash } = event;
  if (policyHash === undefined) {
    report.callsWithoutPolicyHash++;
    return;
  }
  const version = event.policyVersion ?? null;
  const key = `${policyHash}\u0000${version ?? ''}`;
  const known = policies.get(key);
  if (known !== undefined) {
    known.calls++;
  } else if (policies.size < MAX_RECORDED_POLICIES) {
    policies.set(key, { hash: policyHash, version, calls: 1 });
  } else {
    report.callsWithOtherPolicies++;
  }
}
