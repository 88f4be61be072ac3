import type { AuditVerification, CheckpointSummary } from '../engine/audit/audit-chain';
import type { AuditEvent } from '../engine/audit/audit-event';

/** One event of `GET /v1/audit/{tenant_id}`, snake_case like the rest of the wire format. */
export function toWireAuditEvent(event: AuditEvent): Record<string, unknown> {
  return {
    id: event.id,
    position: event.position,
    timestamp: event.timestamp,
    tenant_id: event.tenantId,
    session_id: event.sessionId,
    agent_id: event.agentId,
    action: event.action,
    parameters: event.parameters,
    payload_hash: event.payloadHash,
    decision: event.decision,
    reason: event.reason,
    escalation_id: event.escalationId,
    actor_human_id: event.actorHumanId,
    approver_reason: event.approverReason ?? null,
    kind: event.kind,
    policy_hash: event.policyHash ?? null,
    policy_version: event.policyVersion ?? null,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}

/**
 * `GET /v1/audit/integrity/{tenant_id}`: the reference server's shape
 * (`valid`, `events_checked`, `violations` with `expected_prev_hash` /
 * `actual_prev_hash`), plus what our verification knows besides: the first
 * broken position, and for each violation its kind and the expected and
 * actual values (a hash, a position) whatever the kind.
 */
export function toWireIntegrity(
  tenantId: string,
  verification: AuditVerification,
): Record<string, unknown> {
  return {
    integrity: {
      tenant_id: tenantId,
      valid: verification.valid,
      events_checked: verification.eventsChecked,
      first_broken_position: verification.firstBrokenPosition,
      violations: verification.violations.map((violation) => {
        const prev = violation.problem === 'prev-hash-mismatch';
        return {
          position: violation.position,
          event_id: violation.eventId,
          expected_prev_hash: prev ? violation.expected : null,
          actual_prev_hash: prev ? violation.actual : null,
          problem: violation.problem,
          message: violation.message,
          expected: violation.expected,
          actual: violation.actual,
        };
      }),
      anchor: verification.anchor,
      ...(verification.checkpoints === undefined
        ? {}
        : { checkpoints: toWireCheckpoints(verification.checkpoints) }),
    },
  };
}

/** What the signed checkpoints prove (present when the tenant's log is signed). */
function toWireCheckpoints(summary: CheckpointSummary): Record<string, unknown> {
  return {
    found: summary.found,
    verified: summary.verified,
    signed_through: summary.signedThrough,
    unsigned_events: summary.unsignedEvents,
    last_reason: summary.lastReason,
    key_ids: summary.keyIds,
  };
}
