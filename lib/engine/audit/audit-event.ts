import { randomUUID } from 'node:crypto';
import type { Decision } from '../../protocol/decision';
import { canonicalJson, quote, sha256Hex } from '../../protocol/canonical-json';

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
 * The canonical text of a prepared event's parameters, keyed by the parameters
 * object prepareEvent parsed from it (a new object nobody else holds yet), so
 * that chaining and the file store splice it in instead of writing the
 * parameters again. AuditLog releases an entry once its batch is stored.
 */
const canonicalParametersOf = new WeakMap<object, string>();

/**
 * Freezes the input into event fields now (parameters normalised through
 * canonical JSON, so the event in memory is exactly what a reader of the file
 * gets back). Throws `CanonicalJsonError` for parameters that cannot be hashed.
 *
 * `canonicalParameters`, when given, must be `canonicalJson(input.parameters ?? null)`
 * computed by the caller from the same object just before (the embedded
 * gateway has it from validating the call); it is trusted, not recomputed.
 */
export function prepareEvent(
  input: AuditEventInput,
  now: Date = new Date(),
  canonicalParameters: string = canonicalJson(input.parameters ?? null),
): UnchainedAuditEvent {
  const parameters = JSON.parse(canonicalParameters) as Record<string, unknown> | null;
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
  if (parameters !== null && typeof parameters === 'object') {
    canonicalParametersOf.set(parameters, canonicalParameters);
  }
  return event;
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
  return sha256Hex(canonicalJson(body));
}

/** The line an event is stored as: canonical JSON (ASCII, no raw newline), then '\n'. */
export function serializeEvent(event: AuditEvent): string {
  return `${canonicalEventText(event, true) ?? canonicalJson(event)}\n`;
}

/** Lets go of the parameters' canonical text once the events are stored. */
export function releaseCanonicalText(events: readonly AuditEvent[]): void {
  for (const event of events) {
    if (event.parameters !== null) canonicalParametersOf.delete(event.parameters);
  }
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
 * caller falls back to canonicalJson. Keys are written in code-point order,
 * the order canonicalJson sorts them in.
 */
function canonicalEventText(event: AuditEvent, withHash: boolean): string | null {
  const parameters =
    event.parameters === null ? 'null' : canonicalParametersOf.get(event.parameters);
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
