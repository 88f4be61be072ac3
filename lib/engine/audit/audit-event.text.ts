import { canonicalStoredMember } from '../../protocol/canonical-json';
import { canonicalTextOf, parametersTextOf } from '../../protocol/canonical-stamp';
import { compareCodePoints, quote } from '../../protocol/python-json';
import type { AuditEvent } from './audit-event.types';

/*
 * The canonical text of an event: the line it is stored as, and the text its
 * hash covers. A chained event is written field by field with its parameters'
 * remembered text spliced in (canonicalEventText); a record of any other shape
 * member by member (recordText).
 */

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

/**
 * canonicalJson of a record of any shape (an event read back from a store,
 * or one with other fields than chainEvent gives), written member by member:
 * the parameters' remembered text is spliced in when there is one, and each
 * other member is walked as a stored value (canonicalStoredMember), so
 * parameters as deep as MAX_PARAMETER_DEPTH (or a log written before 0.2
 * holds) still hash inside the record that encloses them.
 */
export function recordText(record: Record<string, unknown>): string {
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
export const CHAINED_KEYS = [
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
/** The keys chainEvent puts after `kind`, in this order, when the event has them. */
const OPTIONAL_KEYS_AFTER_KIND = (approverReason: boolean, policy: boolean): string[] => [
  ...(approverReason ? ['approverReason'] : []),
  ...(policy ? ['policyHash', 'policyVersion'] : []),
];
function keysWith(approverReason: boolean, policy: boolean): readonly string[] {
  const kind = CHAINED_KEYS.indexOf('kind') + 1;
  return [
    ...CHAINED_KEYS.slice(0, kind),
    ...OPTIONAL_KEYS_AFTER_KIND(approverReason, policy),
    ...CHAINED_KEYS.slice(kind),
  ];
}
export const CHAINED_KEYS_WITH_APPROVER_REASON = keysWith(true, false);
/** With the policy the event was decided with (policyHash, policyVersion). */
export const CHAINED_KEYS_WITH_POLICY = keysWith(false, true);
/** Every key a chained event may have: a store keeps a column for each. */
export const CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY = keysWith(true, true);

/**
 * The key list (in creation order) of a chained event with `count` keys, or
 * null: the four shapes have 16, 17, 18 and 19 keys. `unchained` counts the
 * keys of an event before chainEvent (without position, prevHash and hash).
 */
export function chainedKeysFor(count: number, unchained = false): readonly string[] | null {
  switch (unchained ? count + 3 : count) {
    case CHAINED_KEYS.length:
      return CHAINED_KEYS;
    case CHAINED_KEYS_WITH_APPROVER_REASON.length:
      return CHAINED_KEYS_WITH_APPROVER_REASON;
    case CHAINED_KEYS_WITH_POLICY.length:
      return CHAINED_KEYS_WITH_POLICY;
    case CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY.length:
      return CHAINED_KEYS_WITH_APPROVER_REASON_AND_POLICY;
    default:
      return null;
  }
}

/**
 * canonicalJson of a chained event (without its `hash` unless `withHash`),
 * written field by field with the parameters' canonical text spliced in; or
 * null when the event is not exactly what chainEvent makes (another key set,
 * a field of another type, parameters whose text is not known), and the
 * caller falls back to recordText. Keys are written in code-point order,
 * the order canonicalJson sorts them in.
 */
export function canonicalEventText(event: AuditEvent, withHash: boolean): string | null {
  if (withHash && typeof event.hash !== 'string') return null;
  const parts = canonicalEventParts(event);
  if (parts === null) return null;
  return parts.head + (withHash ? `,"hash":${quote(event.hash)}` : '') + parts.tail;
}

/**
 * canonicalEventText without the hash, in two parts around the place where
 * `hash` sorts (after `escalationId`, before `id`): the text the hash covers
 * is `head + tail`, and the stored line puts the hash member between them,
 * so chainEvent writes each field once for both. Null as canonicalEventText.
 * `keysKnown`: the caller built the event with exactly chainEvent's keys
 * (copyPrepared), so only the fields' types are checked.
 */
export function canonicalEventParts(event: AuditEvent, keysKnown = false): EventTextParts | null {
  const parameters = parametersTextOf(event.parameters);
  if (parameters === undefined) return null;
  if (!keysKnown && !hasChainedKeys(event)) return null;
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
  const policy = policyText(event);
  if (policy === null) return null;
  if (!Number.isSafeInteger(event.position)) return null;
  return {
    head:
      `{"action":${QUOTED.action.of(event.action)},"actorHumanId":${nullable(event.actorHumanId)}` +
      `,"agentId":${QUOTED.agentId.of(event.agentId)}` +
      (approverReason === undefined ? '' : `,"approverReason":${nullable(approverReason)}`) +
      `,"decision":${QUOTED.decision.of(event.decision)},"escalationId":${nullable(event.escalationId)}`,
    tail:
      `,"id":${quote(event.id)},"kind":${QUOTED.kind.of(event.kind)},"parameters":${parameters}` +
      `,"payloadHash":${quote(event.payloadHash)}${policy},"position":${String(event.position)}` +
      `,"prevHash":${quote(event.prevHash)},"reason":${QUOTED.reason.of(event.reason)}` +
      `,"sessionId":${QUOTED.sessionId.of(event.sessionId)},"tenantId":${QUOTED.tenantId.of(event.tenantId)}` +
      `,"timestamp":${quote(event.timestamp)}}`,
  };
}

/** Whether the event has exactly the keys, in the order, that chainEvent gives one. */
function hasChainedKeys(event: AuditEvent): boolean {
  const keys = Object.keys(event);
  const expected = chainedKeysFor(keys.length);
  if (expected === null) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== expected[i]) return false;
  return true;
}

/** canonicalEventParts' answer: the event's text without `hash` is `head + tail`. */
export interface EventTextParts {
  readonly head: string;
  readonly tail: string;
}

/**
 * quote() of the text one field had last: consecutive events mostly repeat
 * their agent, session, tenant, action, decision, kind, reason and policy, so
 * the scan and the new string are skipped for a repeat. Pure (the same text
 * always quotes the same), and it keeps one string per field.
 */
class QuotedField {
  private text: string | undefined = undefined;
  private quoted = '';

  of(text: string): string {
    if (text !== this.text) {
      this.quoted = quote(text);
      this.text = text;
    }
    return this.quoted;
  }
}

const QUOTED = {
  action: new QuotedField(),
  agentId: new QuotedField(),
  decision: new QuotedField(),
  kind: new QuotedField(),
  reason: new QuotedField(),
  sessionId: new QuotedField(),
  tenantId: new QuotedField(),
  policyHash: new QuotedField(),
  policyVersion: new QuotedField(),
};

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

/**
 * The policy members of canonicalEventText (they sort between payloadHash and
 * position): '' when the event has none, null when they are not a string hash
 * and a nullable string version.
 */
function policyText(event: AuditEvent): string | null {
  const { policyHash, policyVersion } = event;
  if (policyHash === undefined && policyVersion === undefined) return '';
  if (typeof policyHash !== 'string') return null;
  if (policyVersion !== null && typeof policyVersion !== 'string') return null;
  return `,"policyHash":${QUOTED.policyHash.of(policyHash)},"policyVersion":${policyVersion === null ? 'null' : QUOTED.policyVersion.of(policyVersion)}`;
}

function nullable(value: string | null | undefined): string {
  return value === null || value === undefined ? 'null' : quote(value);
}
