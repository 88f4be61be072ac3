import { isDecision } from '../../protocol/decision';
import { AUDIT_EVENT_KINDS, type AuditEvent } from './audit-event.types';

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
    // The policy pair: both absent, or a SHA-256 hex hash with a nullable version.
    ((e.policyHash === undefined && e.policyVersion === undefined) ||
      (typeof e.policyHash === 'string' &&
        SHA256_HEX.test(e.policyHash) &&
        isNullableString(e.policyVersion))) &&
    AUDIT_EVENT_KINDS.includes(e.kind as AuditEvent['kind']) &&
    typeof e.prevHash === 'string' &&
    SHA256_HEX.test(e.prevHash) &&
    typeof e.hash === 'string' &&
    SHA256_HEX.test(e.hash)
  );
}
