import { randomUUID } from 'node:crypto';
import type { Decision } from '../../common/decision';
import { canonicalJson, sha256Hex } from './canonical-json';

/** What an event records: a decision, or one step of an escalation. */
export type AuditEventKind =
  | 'decision'
  | 'escalation.pending'
  | 'escalation.approved'
  | 'escalation.rejected'
  | 'escalation.expired';

export const AUDIT_EVENT_KINDS: readonly AuditEventKind[] = [
  'decision',
  'escalation.pending',
  'escalation.approved',
  'escalation.rejected',
  'escalation.expired',
];

/**
 * One line of the audit log. `hash` covers every other field (PROTOCOL.md:
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
}

/** An event before it takes its place in the chain. */
export type UnchainedAuditEvent = Omit<AuditEvent, 'position' | 'prevHash' | 'hash'>;

/** The prevHash of the first event, as the reference server defines it. */
export const GENESIS_HASH = sha256Hex('PROVENANCE:GENESIS');

/**
 * Freezes the input into event fields now (parameters normalised through
 * canonical JSON, so the event in memory is exactly what a reader of the file
 * gets back). Throws `CanonicalJsonError` for parameters that cannot be hashed.
 */
export function prepareEvent(input: AuditEventInput, now: Date = new Date()): UnchainedAuditEvent {
  const canonicalParameters = canonicalJson(input.parameters ?? null);
  const event: UnchainedAuditEvent = {
    id: randomUUID(),
    timestamp: now.toISOString(),
    tenantId: input.tenantId,
    sessionId: input.sessionId,
    agentId: input.agentId,
    action: input.action,
    parameters: JSON.parse(canonicalParameters) as Record<string, unknown> | null,
    payloadHash: sha256Hex(canonicalParameters),
    decision: input.decision,
    reason: input.reason,
    escalationId: input.escalationId ?? null,
    actorHumanId: input.actorHumanId ?? null,
    kind: input.kind,
  };
  if (input.approverReason !== undefined) event.approverReason = input.approverReason;
  return event;
}

/** Gives a prepared event its position and links it after `prevHash`. */
export function chainEvent(
  event: UnchainedAuditEvent,
  position: number,
  prevHash: string,
): AuditEvent {
  const body = { ...event, position, prevHash };
  return { ...body, hash: hashEventBody(body) };
}

/** sha256 of the canonical JSON of every field but `hash`. */
export function computeEventHash(event: Omit<AuditEvent, 'hash'> & { hash?: unknown }): string {
  const { hash: _hash, ...body } = event;
  return hashEventBody(body);
}

function hashEventBody(body: object): string {
  return sha256Hex(canonicalJson(body));
}

/** The line an event is stored as: canonical JSON (ASCII, no raw newline), then '\n'. */
export function serializeEvent(event: AuditEvent): string {
  return `${canonicalJson(event)}\n`;
}
