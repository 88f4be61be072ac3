import type { GrantCondition, GrantInput, GrantRecord } from './grant.types';
import { WireFormatError, asObject, optionalString, preview, requiredString } from './wire';

/*
 * Grants on the wire (ours; docs/protocol.md, "Grants"): `POST /v1/grants`
 * takes a WireGrantRequest, and every grant route answers WireGrant objects.
 */

export interface WireGrantRequest {
  action: string;
  conditions?: GrantCondition[];
  agent_id?: string | null;
  session_id?: string | null;
  expires_in_ms?: number;
  max_uses?: number;
  reason?: string | null;
}

export interface WireGrant {
  id: string;
  kind: string;
  tenant_id: string | null;
  action: string;
  conditions: GrantCondition[];
  agent_id: string | null;
  session_id: string | null;
  parameters_hash: string | null;
  escalation_id: string | null;
  granted_by: string;
  reason: string | null;
  created_at: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  status: string;
}

const KINDS: ReadonlySet<string> = new Set(['single-use', 'standing']);
const STATUSES: ReadonlySet<string> = new Set(['ACTIVE', 'USED_UP', 'EXPIRED', 'REVOKED']);

export function toWireGrantRequest(input: GrantInput): WireGrantRequest {
  const body: WireGrantRequest = { action: input.action };
  if (input.conditions !== undefined) body.conditions = input.conditions;
  if (input.agentId != null) body.agent_id = input.agentId;
  if (input.sessionId != null) body.session_id = input.sessionId;
  if (input.expiresInMs !== undefined) body.expires_in_ms = input.expiresInMs;
  if (input.maxUses !== undefined) body.max_uses = input.maxUses;
  if (input.reason != null) body.reason = input.reason;
  return body;
}

/** A server's reading of `POST /v1/grants`; the engine checks the values themselves. */
export function fromWireGrantRequest(body: unknown): GrantInput {
  const object = asObject(body, 'the grant request');
  return {
    action: object.action as string,
    conditions: object.conditions as GrantCondition[] | undefined,
    agentId: object.agent_id as string | null | undefined,
    sessionId: object.session_id as string | null | undefined,
    expiresInMs: object.expires_in_ms as number | undefined,
    maxUses: object.max_uses as number | undefined,
    reason: object.reason as string | null | undefined,
  };
}

export function toWireGrant(grant: GrantRecord): WireGrant {
  return {
    id: grant.id,
    kind: grant.kind,
    tenant_id: grant.tenantId,
    action: grant.action,
    conditions: grant.conditions,
    agent_id: grant.agentId,
    session_id: grant.sessionId,
    parameters_hash: grant.parametersHash,
    escalation_id: grant.escalationId,
    granted_by: grant.grantedBy,
    reason: grant.reason,
    created_at: grant.createdAt,
    expires_at: grant.expiresAt,
    max_uses: grant.maxUses,
    uses: grant.uses,
    status: grant.status,
  };
}

export function fromWireGrant(body: unknown, where = 'the grant'): GrantRecord {
  const object = asObject(body, where);
  const kind = object.kind;
  const status = object.status;
  if (typeof kind !== 'string' || !KINDS.has(kind)) {
    throw new WireFormatError(`${where} has an unknown \`kind\`: ${preview(kind)}`);
  }
  if (typeof status !== 'string' || !STATUSES.has(status)) {
    throw new WireFormatError(`${where} has an unknown \`status\`: ${preview(status)}`);
  }
  const conditions = object.conditions ?? [];
  if (!Array.isArray(conditions)) throw new WireFormatError(`${where}.conditions is not a list`);
  const count = (key: string): number => {
    const value = object[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new WireFormatError(`${where} has no whole number \`${key}\``);
    }
    return value;
  };
  return {
    id: requiredString(object, 'id', where),
    kind: kind as GrantRecord['kind'],
    tenantId: optionalString(object, 'tenant_id'),
    action: requiredString(object, 'action', where),
    conditions: conditions as GrantCondition[],
    agentId: optionalString(object, 'agent_id'),
    sessionId: optionalString(object, 'session_id'),
    parametersHash: optionalString(object, 'parameters_hash'),
    escalationId: optionalString(object, 'escalation_id'),
    grantedBy: requiredString(object, 'granted_by', where),
    reason: optionalString(object, 'reason'),
    createdAt: requiredString(object, 'created_at', where),
    expiresAt: requiredString(object, 'expires_at', where),
    maxUses: count('max_uses'),
    uses: count('uses'),
    status: status as GrantRecord['status'],
  };
}

export function fromWireGrantList(body: unknown): GrantRecord[] {
  const object = asObject(body, 'the grant list');
  const grants = object.grants;
  if (!Array.isArray(grants)) throw new WireFormatError('the grant list has no `grants` list');
  return grants.map((grant, index) => fromWireGrant(grant, `grants[${index}]`));
}
