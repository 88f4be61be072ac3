import type { Decision } from './decision';

/** One call to evaluate: the body of `POST /v1/gateway/execute`, camelCased. */
export interface GatewayRequest {
  sessionId: string;
  agentId: string;
  action: string;
  parameters: Record<string, unknown> | null;
  /** The caller's hint; the wire format requires it, no server evaluates it. */
  decision: Decision;
  tenantPolicyId?: string | null;
  idempotencyKey?: string | null;
}

/** How an escalation ended, when the answer came from one. */
export type EscalationOutcome = 'approved' | 'rejected' | 'expired' | 'withdrawn';

/** The final answer of `POST /v1/gateway/execute`, camelCased and validated. */
export interface GatewayResponse {
  eventId: string | null;
  /** ALLOW or BLOCK. ESCALATE here means the server answered before a human decided. */
  decision: Decision;
  reason: string;
  escalationId: string | null;
  actorHumanId: string | null;
  /** The reviewer's own reason with an approval or rejection, where the gateway says. */
  approverReason?: string | null;
  /** Set when the call was escalated; the HTTP transport reads it from the reason text of a reference server. */
  escalationOutcome?: EscalationOutcome | null;
}

/** What is known of an escalation as soon as the call is held. */
export interface EscalationTicket {
  escalationId: string;
  action: string;
  agentId: string;
  sessionId: string;
  parameters: Record<string, unknown> | null;
  reason: string;
  createdAt: string;
  /** When the hold expires, where the gateway says. */
  expiresAt?: string | null;
}

export type GatewayEvent =
  | { type: 'escalated'; escalation: EscalationTicket }
  | { type: 'decided'; response: GatewayResponse };

export type EscalationStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'TIMEOUT' | 'WITHDRAWN';

/** An escalation record, as `GET /v1/escalations/pending` lists it (camelCased). */
export interface EscalationRecord {
  id: string;
  tenantId: string | null;
  agentId: string;
  action: string;
  parametersHash: string | null;
  status: EscalationStatus;
  approverId: string | null;
  decidedAt: string | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  /** Known to the embedded gateway (and to our server), not to a reference server. */
  sessionId?: string | null;
  parameters?: Record<string, unknown> | null;
}

export type ReviewVerdict = 'APPROVE' | 'REJECT';

export interface ReviewInput {
  approverId: string;
  reason?: string | null;
}

export interface ReviewOutcome {
  escalationId: string;
  decision: ReviewVerdict;
  approverId: string;
  reason: string | null;
}
