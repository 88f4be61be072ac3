/**
 * Approvals that outlive one held call. A **single-use** grant is what an
 * approval becomes when its caller had stopped waiting: the identical call
 * (same action, agent and canonical parameters) is allowed once, without a
 * new hold. A **standing** grant is given by a reviewer ahead of time: calls
 * that match it are allowed without a hold while it lasts. Either kind only
 * turns an ESCALATE into an ALLOW; it never overrides a BLOCK.
 */
export type GrantKind = 'single-use' | 'standing';

export type GrantStatus = 'ACTIVE' | 'USED_UP' | 'EXPIRED' | 'REVOKED';

/** A condition on the call's parameters, in the policy's syntax (docs/policy.md, "Conditions"). */
export interface GrantCondition {
  field: string;
  operator: string;
  value: unknown;
}

/** What a reviewer grants: `reviewer.grant({...})`, `POST /v1/grants`. */
export interface GrantInput {
  /** The action (a glob, as in a policy rule), e.g. `payments.initiate`. */
  action: string;
  /** Every condition must hold on the call's parameters, e.g. `{ field: 'amount', operator: '<=', value: 1000 }`. */
  conditions?: GrantCondition[];
  /** Only this agent's calls. Default: any agent of the tenant. */
  agentId?: string | null;
  /** Only calls in this session. Default: any session. */
  sessionId?: string | null;
  /** How long it lasts, in ms from now. Default one hour; at most 30 days. */
  expiresInMs?: number;
  /** How many calls it may allow. Default 1. */
  maxUses?: number;
  /** The reviewer's reason, recorded with the grant and each use. */
  reason?: string | null;
}

/** A grant as the gateway keeps it. */
export interface GrantRecord {
  id: string;
  kind: GrantKind;
  tenantId: string | null;
  action: string;
  conditions: GrantCondition[];
  agentId: string | null;
  sessionId: string | null;
  /** Single-use grants: the sha256 of the approved call's canonical parameters. */
  parametersHash: string | null;
  /** Single-use grants: the escalation whose approval this is. */
  escalationId: string | null;
  grantedBy: string;
  reason: string | null;
  createdAt: string;
  expiresAt: string;
  maxUses: number;
  uses: number;
  status: GrantStatus;
}
