import type { EscalationRecord } from './gateway.types';

/** Where an escalation is in its life. `pending` comes first; exactly one of the others ends it. */
export type EscalationEventType = 'pending' | 'approved' | 'rejected' | 'expired' | 'withdrawn';

/** One step of an escalation this app raised, as `gateway.escalations$` emits it. */
export interface EscalationEvent {
  type: EscalationEventType;
  escalationId: string;
  action: string;
  parameters: Record<string, unknown> | null;
  agentId: string;
  sessionId: string;
  /** ISO time the call was held, when known (a reference server does not say). */
  createdAt: string | null;
  /** ISO time of the decision or expiry; null while pending. */
  decidedAt: string | null;
  approverId: string | null;
  reason: string | null;
}

/** The event of one step of an escalation, from the gateway's record of it. */
export function escalationEventFromRecord(
  type: EscalationEventType,
  record: EscalationRecord,
): EscalationEvent {
  return {
    type,
    escalationId: record.id,
    action: record.action,
    parameters: record.parameters ?? null,
    agentId: record.agentId,
    sessionId: record.sessionId ?? '',
    createdAt: record.createdAt,
    decidedAt: type === 'pending' ? null : record.decidedAt,
    approverId: record.approverId,
    reason: record.reason,
  };
}
