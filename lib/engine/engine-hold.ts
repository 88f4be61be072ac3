import { flattenCanonicalText } from '../protocol/canonical-stamp';
import { normalizedPayloadHash } from '../protocol/canonical-json';
import { newUuid } from '../protocol/uuid';
import type { EscalationTicket, GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import type { AuditEvent } from './audit/audit-event';
import type { EngineRecorder, PolicyIdentity } from './engine-recorder';
import { EscalationMessages } from './engine.messages';
import type { EscalationStore, HeldCall } from './escalation/escalation-store';
import type { GrantStore } from './grants/grant-store';
import type { ExecuteHooks } from './provenance-engine.types';

/** What an escalated call goes through: the engine's grants, holds and recorder. */
export interface EscalationPath {
  readonly tenantId: string;
  readonly timeoutMs: number;
  readonly recorder: EngineRecorder;
  readonly grants: GrantStore;
  readonly escalations: EscalationStore;
}

/**
 * A call the policy ESCALATEd: allowed by a grant that matches it, else
 * recorded as pending and held until a human decides or the hold expires.
 * A full store refuses it before anything is recorded or announced.
 */
export async function escalateCall(
  path: EscalationPath,
  request: GatewayRequest,
  parameters: Record<string, unknown> | null,
  reason: string,
  policy: PolicyIdentity,
  hooks: ExecuteHooks,
): Promise<GatewayResponse> {
  const { recorder } = path;
  // A grant only ever stands in for a human: it never overrides a BLOCK.
  const grant = await path.grants.use({
    request,
    parameters,
    parametersHash: () => normalizedPayloadHash(parameters),
  });
  if (grant !== null) return recorder.grantUsed(request, parameters, grant, policy);

  await path.escalations.assertRoom(request.action);
  const escalationId = newUuid();
  const pending = await recorder.pending(request, parameters, reason, escalationId, policy);
  const { call, onHeld } = heldCallOf(
    path.tenantId,
    request,
    parameters,
    pending,
    path.timeoutMs,
    hooks,
  );
  return path.escalations.hold(call, onHeld);
}

/**
 * What an escalated call becomes once its pending event is durable: the
 * hold the store keeps, and the `onEscalated` call that announces its ticket
 * (a throw of the caller's hook must not leave a held call without an answer).
 */
export function heldCallOf(
  tenantId: string,
  request: GatewayRequest,
  parameters: Record<string, unknown> | null,
  pendingEvent: AuditEvent,
  timeoutMs: number,
  hooks: ExecuteHooks,
): { call: HeldCall; onHeld: () => void } {
  // Kept (with the request) until the hold ends.
  flattenCanonicalText(parameters);
  const createdAt = pendingEvent.timestamp;
  const { escalationId, reason } = pendingEvent as AuditEvent & { escalationId: string };
  const ticket: EscalationTicket = {
    escalationId,
    action: request.action,
    agentId: request.agentId,
    sessionId: request.sessionId,
    parameters: pendingEvent.parameters,
    reason,
    createdAt,
    expiresAt: new Date(Date.parse(createdAt) + timeoutMs).toISOString(),
  };
  const held = {
    escalationId,
    tenantId,
    agentId: request.agentId,
    sessionId: request.sessionId,
    action: request.action,
    parameters: pendingEvent.parameters,
    parametersHash: pendingEvent.payloadHash,
    reason,
    createdAt,
  };
  const onHeld = () => {
    try {
      hooks.onEscalated?.(ticket);
    } catch (error) {
      console.warn(
        EscalationMessages.listenerFailed(error instanceof Error ? error.message : String(error)),
      );
    }
  };
  return { call: { request, parameters, ticket: held, timeoutMs }, onHeld };
}
