import type { Decision } from '../../protocol/decision';

/**
 * What an event records: a decision, one step of an escalation, a grant's
 * life (created, used by a call, revoked), an idempotent replay of an earlier
 * answer, a call refused after its decision (its arguments changed), or a
 * policy put in force by a reload (`policy.loaded`).
 */
export type AuditEventKind =
  | 'decision'
  | 'escalation.pending'
  | 'escalation.approved'
  | 'escalation.rejected'
  | 'escalation.expired'
  | 'escalation.withdrawn'
  | 'grant.created'
  | 'grant.used'
  | 'grant.revoked'
  | 'decision.replayed'
  | 'call.refused'
  | 'policy.loaded';

export const AUDIT_EVENT_KINDS: readonly AuditEventKind[] = [
  'decision',
  'escalation.pending',
  'escalation.approved',
  'escalation.rejected',
  'escalation.expired',
  'escalation.withdrawn',
  'grant.created',
  'grant.used',
  'grant.revoked',
  'decision.replayed',
  'call.refused',
  'policy.loaded',
];

/**
 * One line of the audit log. `hash` covers every other field (docs/protocol.md, "Event hash and the chain":
 * "our chain covers every field of every event"), `prevHash` is the previous
 * event's `hash`, and `position` is the 0-based index in the log, so removing,
 * inserting or moving an event breaks the chain where it happened.
 */
export interface AuditEvent {
  position: number;
  id: string;
  /** ISO 8601 with milliseconds, UTC. */
  timestamp: string;
  tenantId: string;
  sessionId: string;
  agentId: string;
  action: string;
  /** The call's parameters as canonical JSON parses back (Dates are strings, etc.). */
  parameters: Record<string, unknown> | null;
  /** sha256 of the canonical JSON of `parameters`: the reference server's payload_hash. */
  payloadHash: string;
  decision: Decision;
  reason: string;
  escalationId: string | null;
  actorHumanId: string | null;
  /** The approver's own words, when an escalation ended by a human decision (or by shutdown). */
  approverReason?: string | null;
  kind: AuditEventKind;
  /**
   * The policy the event was decided with (decisions, grant uses, pending
   * escalations, replays; for `policy.loaded` the policy put in force):
   * SHA-256 hex of its canonical JSON. Absent on events that no policy
   * decided, and on every event written before events named their policy.
   */
  policyHash?: string;
  /** That policy's `version` as text, null when it has none; present exactly when policyHash is. */
  policyVersion?: string | null;
  prevHash: string;
  hash: string;
}

/** What a caller supplies; the log fills in id, timestamp, position and the hashes. */
export interface AuditEventInput {
  tenantId: string;
  sessionId: string;
  agentId: string;
  action: string;
  parameters: Record<string, unknown> | null;
  decision: Decision;
  reason: string;
  kind: AuditEventKind;
  escalationId?: string | null;
  actorHumanId?: string | null;
  approverReason?: string | null;
  /** Set both or neither (see AuditEvent.policyHash). */
  policyHash?: string;
  policyVersion?: string | null;
}

/** An event before it takes its place in the chain. */
export type UnchainedAuditEvent = Omit<AuditEvent, 'position' | 'prevHash' | 'hash'>;
