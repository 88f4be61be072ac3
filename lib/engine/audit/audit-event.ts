import { canonicalTextFor, sha256Hex } from '../../protocol/canonical-json';
import {
  forgetCanonicalText,
  canonicalTextOf,
  parseCanonical,
} from '../../protocol/canonical-stamp';
import { ParameterMessages } from '../../protocol/provenance.messages';
import { newUuid } from '../../protocol/uuid';
import { isoTimestamp } from './audit-timestamp';
import {
  canonicalEventParts,
  chainedKeysFor,
  recordText,
  serializeEvent,
} from './audit-event.text';
import type { AuditEvent, AuditEventInput, UnchainedAuditEvent } from './audit-event.types';

export { AUDIT_EVENT_KINDS } from './audit-event.types';
export type {
  AuditEvent,
  AuditEventInput,
  AuditEventKind,
  UnchainedAuditEvent,
} from './audit-event.types';
export { serializeEvent, storedRecordTexts } from './audit-event.text';

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
export function prepareEvent(
  input: AuditEventInput,
  now: Date | number = Date.now(),
): UnchainedAuditEvent {
  const canonicalParameters = parametersText(input);
  const parameters = parseCanonical(canonicalParameters) as Record<string, unknown> | null;
  const event: UnchainedAuditEvent = {
    id: newUuid(),
    timestamp: typeof now === 'number' ? isoTimestamp(now) : now.toISOString(),
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
  if (input.policyHash !== undefined) {
    event.policyHash = input.policyHash;
    event.policyVersion = input.policyVersion ?? null;
  }
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

/**
 * Gives a prepared event its position and links it after `prevHash`. With
 * `lines`, also pushes the line it is stored as (serializeEvent's text),
 * written from the same text its hash was taken of.
 */
export function chainEvent(
  event: UnchainedAuditEvent,
  position: number,
  prevHash: string,
  lines?: string[],
): AuditEvent {
  const chained = copyPrepared(event, position, prevHash);
  // copyPrepared gave it exactly chainEvent's keys: only the fields' types are checked.
  const parts = chained === null ? null : canonicalEventParts(chained, true);
  if (chained === null || parts === null) {
    const body = { ...event, position, prevHash };
    const whole: AuditEvent = { ...body, hash: hashEventBody(body) };
    lines?.push(serializeEvent(whole));
    return whole;
  }
  const body = parts.head + parts.tail;
  chained.hash = sha256Hex(body);
  // Cut from the body, which hashing made one flat string: the line is copied
  // from two pieces of it, not from the many its parts were written in. The
  // hash is sha256Hex's lowercase hex: quote() would write it as it is.
  const cut = parts.head.length;
  lines?.push(`${body.slice(0, cut)},"hash":"${chained.hash}"${body.slice(cut)}\n`);
  return chained;
}

/**
 * `{ ...event, position, prevHash, hash: '' }` for an event with exactly the
 * keys prepareEvent gives, written out: V8 makes an object spread followed by
 * more members several microseconds slower than the literal (measured). The
 * optional members (approverReason, the policy pair) are added in their
 * place, before position. Null for any other event.
 */
function copyPrepared(
  event: UnchainedAuditEvent,
  position: number,
  prevHash: string,
): AuditEvent | null {
  const keys = Object.keys(event);
  const expected = chainedKeysFor(keys.length, true);
  if (expected === null) return null;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== expected[i]) return null;
  const e = event;
  const chained: Omit<AuditEvent, 'position' | 'prevHash' | 'hash'> &
    Partial<Pick<AuditEvent, 'position' | 'prevHash' | 'hash'>> = {
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
  };
  // After `kind` (the 13th key): approverReason, then the policy pair, when present.
  if (keys[13] === 'approverReason') chained.approverReason = e.approverReason;
  if (keys[keys.length - 1] === 'policyVersion') {
    chained.policyHash = e.policyHash;
    chained.policyVersion = e.policyVersion;
  }
  chained.position = position;
  chained.prevHash = prevHash;
  chained.hash = '';
  return chained as AuditEvent;
}

/** sha256 of the canonical JSON of every field but `hash`. */
export function computeEventHash(event: Omit<AuditEvent, 'hash'> & { hash?: unknown }): string {
  const { hash: _hash, ...body } = event;
  return hashEventBody(body);
}

function hashEventBody(body: object): string {
  return sha256Hex(recordText(body as Record<string, unknown>));
}

/** Lets go of the parameters' canonical text once the events are stored. */
export function releaseCanonicalText(events: readonly AuditEvent[]): void {
  for (const event of events) forgetCanonicalText(event.parameters);
}
