import { flattenCanonicalText } from '../protocol/canonical-stamp';
import type { EscalationTicket, GatewayRequest } from '../protocol/gateway.types';
import type { AuditEvent } from './audit/audit-event';
import { EscalationMessages } from './engine.messages';
import type { HeldCall } from './escalation/escalation-store';
import type { ExecuteHooks } from './provenance-engine.types';

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
