import { randomUUID } from 'node:crypto';
import type { Decision } from '../../protocol/decision';
import { canonicalStoredMember, canonicalTextFor, sha256Hex } from '../../protocol/canonical-json';
import {
  canonicalTextOf,
  forgetCanonicalText,
  parseCanonical,
} from '../../protocol/canonical-stamp';
import { compareCodePoints, quote } from '../../protocol/python-json';
import { ParameterMessages } from '../../protocol/provenance.messages';

/**
 * What an event records: a decision, one step of an escalation, a grant's
 * life (created, used by a call, revoked), an idempotent replay of an earlier
 * answer, or a call refused after its decision (its arguments changed).
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
  | 'call.refused';

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
 * Freezes the input into event fields now: the parameters become a fresh copy
 * parsed from their canonical text, so the event in memory is exactly what a
 * reader of the file gets back. That copy is remembered with its text (the
 * walker's one mechanism, canonicalTextOf), so chaining and the file store
 * splice the text in instead of writing the parameters again; AuditLog lets
 * go of it once the batch is stored.
 *
 * Parameters the walker normalised (the engine's, the gateway service's) are
 * trusted with their remembered text; any others are walked here, under the
 * same rules and limit. Throws `InvalidParametersError` for parameters that
 * cannot be hashed.
 */
export function prepareEvent(input: AuditEventInput, now: Date = new Date()): UnchainedAuditEvent {
  const canonicalParameters = parametersText(input);
  const parameters = parseCanonical(canonicalParameters) as Record<string, unknown> | null;
  const event: UnchainedAuditEvent = {
    id: randomUUID(),
    timestamp: now.toISOString(),
    tenantId: input.tenantId,
    sessionId: input.sessionId,
    agentId: input.agentId,
    action: input.action,
    parameters,
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

/** The canonical text of an input's parameters: remembered by the walker, or walked now. */
function parametersText(input: AuditEventInput): string {
  const parameters: unknown = input.parameters ?? null;
  if (parameters === null) return 'null';
  return (
    canonicalTextOf(parameters) ??
    canonicalTextFor(String(input.action), parameters, ParameterMessages.notRecorded())
  );
}

/** Gives a prepared event its position and links it after `prevHash`. */
export function chainEvent(
  event: UnchainedAuditEvent,
  position: number,
  prevHash: string,
): AuditEvent {
  const chained = copyPrepared(event, position, prevHash);
  const text = chained === null ? null : canonicalEventText(chained, false);
  if (chained === null || text === null) {
    const body = { ...event, position, prevHash };
    return { ...body, hash: hashEventBody(body) };
  }
  chained.hash = sha256Hex(text);
  return chained;
}

/**
 * `{ ...event, position, prevHash, hash: '' }` for an event with exactly the
 * keys prepareEvent gives, written out: V8 makes an object spread followed by
 * more members several microseconds slower than the literal (measured). Null
 * for any other event.
 */
function copyPrepared(
  event: UnchainedAuditEvent,
  position: number,
  prevHash: string,
): AuditEvent | null {
  const keys = Object.keys(event);
  const withApproverReason = keys.length === CHAINED_KEYS_WITH_APPROVER_REASON.length - 3;
  const expected = withApproverReason ? CHAINED_KEYS_WITH_APPROVER_REASON : CHAINED_KEYS;
  if (keys.length !== expected.length - 3) return null;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== expected[i]) return null;
  const e = event;
  return withApproverReason
    ? {
        id: e.id,
        timestamp: e.timestamp,
        tenantId: e.tenantId,
        sessionId: e.sessionId,
        agentId: e.agentId,
        action: e.action,
        parameters: e.parameters,
        payloadHash: e.payloadHash,
        decision: e.decision,
        reason: e.reason,
        escalationId: e.escalationId,
        actorHumanId: e.actorHumanId,
        kind: e.kind,
        approverReason: e.approverReason,
        position,
        prevHash,
        hash: '',
      }
    : {
        id: e.id,
        timestamp: e.timestamp,
        tenantId: e.tenantId,
        sessionId: e.sessionId,
        agentId: e.agentId,
        action: e.action,
        parameters: e.parameters,
        payloadHash: e.payloadHash,
        decision: e.decision,
        reason: e.reason,
        escalationId: e.escalationId,
        actorHumanId: e.actorHumanId,
        kind: e.kind,
        position,
        prevHash,
        hash: '',
      };
}

/** sha256 of the canonical JSON of every field but `hash`. */
export function computeEventHash(event: Omit<AuditEvent, 'hash'> & { hash?: unknown }): string {
  const { hash: _hash, ...body } = event;
  return hashEventBody(body);
}

function hashEventBody(body: object): string {
  return sha256Hex(recordText(body as Record<string, unknown>));
}

/** The line an event is stored as: canonical JSON (ASCII, no raw newline), then '\n'. */
export function serializeEvent(event: AuditEvent): string {
  return `${canonicalEventText(event, true) ?? recordText(event as unknown as Record<string, unknown>)}\n`;
}

/**
 * For a record read back from a store: `line`, the canonical text the writer
 * would store for it (serializeEvent without the newline), and `body`, the
 * text its hash covers (every member but `hash`). Each member is written once
 * for both. A stored line whose bytes are not `line` was not written by us.
 */
export function storedRecordTexts(record: Record<string, unknown>): { line: string; body: string } {
  const names = Object.keys(record).sort(compareCodePoints);
  let line = '{';
  let body = '{';
  for (const name of names) {
    const member = record[name];
    if (member === undefined) continue;
    const text = `${quote(name)}:${memberText(name, member)}`;
    line += `${line.length === 1 ? '' : ','}${text}`;
    if (name !== 'hash') body += `${body.length === 1 ? '' : ','}${text}`;
  }
  return { line: `${line}}`, body: `${body}}` };
}

/** Lets go of the parameters' canonical text once the events are stored. */
export function releaseCanonicalText(events: readonly AuditEvent[]): void {
  for (const event of events) forgetCanonicalText(event.parameters);
}

/**
 * canonicalJson of a record of any shape (an event read back from a store,
 * or one with other fields than chainEvent gives), written member by member:
 * the parameters' remembered text is spliced in when there is one, and each
 * other member is walked as a stored value (canonicalStoredMember), so
 * parameters as deep as MAX_PARAMETER_DEPTH (or a log written before 0.2
 * holds) still hash inside the record that encloses them.
 */
function recordText(record: Record<string, unknown>): string {
  const names = Object.keys(record).sort(compareCodePoints);
  let text = '{';
  let first = true;
  for (const name of names) {
    const member = record[name];
    if (member === undefined) continue;
    text += `${first ? '' : ','}${quote(name)}:${memberText(name, member)}`;
    first = false;
  }
  return `${text}}`;
}

/** One member of recordText: the string and null fields without a walk of their own. */
function memberText(name: string, member: unknown): string {
  if (typeof member === 'string') return quote(member);
  if (member === null) return 'null';
  if (Number.isSafeInteger(member)) return String(member);
  return (
    (name === 'parameters' ? canonicalTextOf(member) : undefined) ??
    canonicalStoredMember(name, member)
  );
}

/** Own keys, in creation order, of an event prepareEvent then chainEvent made. */
const CHAINED_KEYS = [
  'id',
  'timestamp',
  'tenantId',
  'sessionId',
  'agentId',
  'action',
  'parameters',
  'payloadHash',
  'decision',
  'reason',
  'escalationId',
  'actorHumanId',
  'kind',
  'position',
  'prevHash',
  'hash',
];
const CHAINED_KEYS_WITH_APPROVER_REASON = [
  ...CHAINED_KEYS.slice(0, CHAINED_KEYS.indexOf('kind') + 1),
  'approverReason',
  ...CHAINED_KEYS.slice(CHAINED_KEYS.indexOf('kind') + 1),
];

/**
 * canonicalJson of a chained event (without its `hash` unless `withHash`),
 * written field by field with the parameters' canonical text spliced in; or
 * null when the event is not exactly what chainEvent makes (another key set,
 * a field of another type, parameters whose text is not known), and the
 * caller falls back to recordText. Keys are written in code-point order,
 * the order canonicalJson sorts them in.
 */
function canonicalEventText(event: AuditEvent, withHash: boolean): string | null {
  const parameters = event.parameters === null ? 'null' : canonicalTextOf(event.parameters);
  if (parameters === undefined) return null;
  const keys = Object.keys(event);
  const expected =
    keys.length === CHAINED_KEYS.length ? CHAINED_KEYS : CHAINED_KEYS_WITH_APPROVER_REASON;
  if (keys.length !== expected.length) return null;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== expected[i]) return null;
  const fields = event as unknown as Record<string, unknown>;
  for (const name of STRING_FIELDS) if (typeof fields[name] !== 'string') return null;
  for (const name of NULLABLE_FIELDS) {
    if (fields[name] !== null && typeof fields[name] !== 'string') return null;
  }
  const approverReason = event.approverReason;
  if (
    approverReason !== undefined &&
    approverReason !== null &&
    typeof approverReason !== 'string'
  ) {
    return null;
  }
  if (!Number.isSafeInteger(event.position)) return null;
  if (withHash && typeof event.hash !== 'string') return null;
  return (
    `{"action":${quote(event.action)},"actorHumanId":${nullable(event.actorHumanId)}` +
    `,"agentId":${quote(event.agentId)}` +
    (approverReason === undefined ? '' : `,"approverReason":${nullable(approverReason)}`) +
    `,"decision":${quote(event.decision)},"escalationId":${nullable(event.escalationId)}` +
    (withHash ? `,"hash":${quote(event.hash)}` : '') +
    `,"id":${quote(event.id)},"kind":${quote(event.kind)},"parameters":${parameters}` +
    `,"payloadHash":${quote(event.payloadHash)},"position":${String(event.position)}` +
    `,"prevHash":${quote(event.prevHash)},"reason":${quote(event.reason)}` +
    `,"sessionId":${quote(event.sessionId)},"tenantId":${quote(event.tenantId)}` +
    `,"timestamp":${quote(event.timestamp)}}`
  );
}

const STRING_FIELDS = [
  'action',
  'agentId',
  'decision',
  'id',
  'kind',
  'payloadHash',
  'prevHash',
  'reason',
  'sessionId',
  'tenantId',
  'timestamp',
];
const NULLABLE_FIELDS = ['actorHumanId', 'escalationId'];

function nullable(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : quote(value);
}
