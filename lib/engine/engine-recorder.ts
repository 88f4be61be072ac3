import { Decision } from '../protocol/decision';
import type { GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import type { GrantRecord } from '../protocol/grant.types';
import type { AuditEventInput, AuditEventKind } from './audit/audit-event';
import type { AuditLog } from './audit/audit-log';
import { EmbeddedGatewayMessages, GrantMessages } from './engine.messages';
import type { HoldOutcome } from './escalation/escalation-holds';
import { PolicyLifecycleMessages } from './policy/policy-lifecycle.messages';
import type { CompiledPolicy } from './policy/policy.types';

/** What an event names of the policy it was decided with. */
export type PolicyIdentity = Pick<CompiledPolicy, 'hash' | 'version'>;

type EventFields = Omit<
  AuditEventInput,
  'tenantId' | 'sessionId' | 'agentId' | 'action' | 'parameters' | 'policyHash' | 'policyVersion'
>;

/**
 * What the engine writes to its audit log, one method per kind of event, and
 * the answer each becomes. Every answer is returned only after its event is
 * durable (the log's append resolves then).
 */
export class EngineRecorder {
  constructor(
    private readonly tenantId: string,
    private readonly audit: AuditLog,
  ) {}

  /**
   * A policy decision, naming `policy`; or, with a null policy, a refusal of
   * the engine's own (an idempotency conflict) that no policy decided.
   */
  async decision(
    request: GatewayRequest,
    decision: Decision,
    reason: string,
    parameters: Record<string, unknown> | null,
    policy: PolicyIdentity | null = null,
  ): Promise<GatewayResponse> {
    const event = await this.audit.append(
      this.input(request, parameters, { decision, reason, kind: 'decision' }, policy),
    );
    return { eventId: event.id, decision, reason, escalationId: null, actorHumanId: null };
  }

  /**
   * `decision`, recorded in this call when the audit log can store the event
   * at once (AuditLog.appendNow); null when it cannot (nothing was recorded:
   * `decision` is the way then). Throws what `decision` would reject with.
   */
  decisionNow(
    request: GatewayRequest,
    decision: Decision,
    reason: string,
    parameters: Record<string, unknown> | null,
    policy: PolicyIdentity,
  ): GatewayResponse | null {
    if (!this.audit.storesNow()) return null;
    const input = this.input(request, parameters, { decision, reason, kind: 'decision' }, policy);
    const event = this.audit.appendNow(input);
    if (event === null) return null;
    return { eventId: event.id, decision, reason, escalationId: null, actorHumanId: null };
  }

  /** The end of a hold; `retryGrant` when an approval came after the caller stopped waiting. */
  async outcome(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    outcome: HoldOutcome,
    retryGrant: GrantRecord | null,
  ): Promise<GatewayResponse> {
    const event = await this.audit.append(
      outcomeEventInput(this.tenantId, request, parameters, outcome, retryGrant),
    );
    return outcomeResponse(event.id, outcome, retryGrant);
  }

  /** A call `policy` escalated that a grant lets through without a hold. */
  async grantUsed(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    grant: GrantRecord,
    policy: PolicyIdentity | null = null,
  ): Promise<GatewayResponse> {
    const reason = GrantMessages.used(grant.id, grant.grantedBy);
    const event = await this.audit.append(
      this.input(
        request,
        parameters,
        {
          decision: Decision.ALLOW,
          reason,
          kind: 'grant.used',
          escalationId: grant.escalationId,
          actorHumanId: grant.grantedBy,
          approverReason: grant.reason,
        },
        policy,
      ),
    );
    return {
      eventId: event.id,
      decision: Decision.ALLOW,
      reason,
      escalationId: grant.escalationId,
      actorHumanId: grant.grantedBy,
      approverReason: grant.reason,
    };
  }

  /**
   * A grant given or revoked: recorded with the grant's terms as the event's
   * parameters, the reviewer as its human, ALLOW for a grant and BLOCK for a
   * revocation.
   */
  async grantChanged(
    kind: 'grant.created' | 'grant.revoked',
    grant: GrantRecord,
    by: string,
  ): Promise<void> {
    await this.audit.append(grantChangedInput(this.tenantId, kind, grant, by));
  }

  /**
   * A repeated idempotency key: its first answer again, recorded as a replay
   * of that event, naming the policy in force when it was replayed.
   */
  async replayed(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    response: GatewayResponse,
    policy: PolicyIdentity | null = null,
  ): Promise<void> {
    await this.audit.append(
      this.input(
        request,
        parameters,
        {
          decision: response.decision,
          reason: EmbeddedGatewayMessages.replayed(response.eventId),
          kind: 'decision.replayed',
          escalationId: response.escalationId,
          actorHumanId: response.actorHumanId,
        },
        policy,
      ),
    );
  }

  /**
   * A policy put in force by a reload: the event names the new policy, and
   * its parameters say which one it replaced and where it came from.
   */
  async policyLoaded(previous: CompiledPolicy, next: CompiledPolicy): Promise<void> {
    await this.audit.append(policyLoadedInput(this.tenantId, previous, next));
  }

  /** A call refused after its decision, before its body ran. */
  async refused(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    reason: string,
  ): Promise<string> {
    const event = await this.audit.append(
      this.input(request, parameters, { decision: Decision.BLOCK, reason, kind: 'call.refused' }),
    );
    return event.id;
  }

  /** The pending event of a new hold, naming the policy that escalated it. */
  pending(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    reason: string,
    escalationId: string,
    policy: PolicyIdentity | null = null,
  ) {
    return this.audit.append(
      this.input(
        request,
        parameters,
        { decision: Decision.ESCALATE, reason, kind: 'escalation.pending', escalationId },
        policy,
      ),
    );
  }

  /** Written out rather than spread: V8 makes `{ ...base, more }` microseconds slower. */
  private input(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    fields: EventFields,
    policy: PolicyIdentity | null = null,
  ): AuditEventInput {
    const input: AuditEventInput = {
      tenantId: this.tenantId,
      sessionId: request.sessionId,
      agentId: request.agentId,
      action: request.action,
      parameters,
      decision: fields.decision,
      reason: fields.reason,
      kind: fields.kind as AuditEventKind,
      escalationId: fields.escalationId,
      actorHumanId: fields.actorHumanId,
      approverReason: fields.approverReason,
    };
    if (policy !== null) {
      input.policyHash = policy.hash;
      input.policyVersion = policy.version;
    }
    return input;
  }
}

/** Who asked, what for: the members of a call that every event of it records. */
export type RecordedCall = Pick<GatewayRequest, 'sessionId' | 'agentId' | 'action'>;

/**
 * The event that ends a hold, wherever it is recorded (this process's log,
 * or a shared store's ending transaction).
 */
export function outcomeEventInput(
  tenantId: string,
  call: RecordedCall,
  parameters: Record<string, unknown> | null,
  outcome: HoldOutcome,
  retryGrant: GrantRecord | null,
): AuditEventInput {
  return {
    tenantId,
    sessionId: call.sessionId,
    agentId: call.agentId,
    action: call.action,
    parameters,
    decision: outcome.status === 'approved' ? Decision.ALLOW : Decision.BLOCK,
    reason: reasonOf(outcome, retryGrant),
    kind: `escalation.${outcome.status}`,
    escalationId: outcome.escalationId,
    actorHumanId: outcome.approverId,
    approverReason: outcome.reason,
  };
}

/** The held call's answer, once the event `eventId` that ends its hold is durable. */
export function outcomeResponse(
  eventId: string,
  outcome: HoldOutcome,
  retryGrant: GrantRecord | null,
): GatewayResponse {
  return {
    eventId,
    decision: outcome.status === 'approved' ? Decision.ALLOW : Decision.BLOCK,
    reason: reasonOf(outcome, retryGrant),
    escalationId: outcome.escalationId,
    actorHumanId: outcome.approverId,
    approverReason: outcome.status === 'expired' ? null : outcome.reason,
    escalationOutcome: outcome.status,
  };
}

/**
 * A grant given or revoked: recorded with the grant's terms as the event's
 * parameters, the reviewer as its human, ALLOW for a grant and BLOCK for a
 * revocation.
 */
export function grantChangedInput(
  tenantId: string,
  kind: 'grant.created' | 'grant.revoked',
  grant: GrantRecord,
  by: string,
): AuditEventInput {
  return {
    tenantId,
    sessionId: grant.sessionId ?? '',
    agentId: grant.agentId ?? '',
    action: grant.action,
    parameters: {
      grantId: grant.id,
      kind: grant.kind,
      conditions: grant.conditions,
      maxUses: grant.maxUses,
      expiresAt: grant.expiresAt,
      escalationId: grant.escalationId,
      parametersHash: grant.parametersHash,
    },
    decision: kind === 'grant.created' ? Decision.ALLOW : Decision.BLOCK,
    reason: `${kind === 'grant.created' ? 'Grant' : 'Revoked grant'} ${grant.id} by ${by}`,
    kind,
    escalationId: grant.escalationId,
    actorHumanId: by,
    approverReason: grant.reason,
  };
}

function reasonOf(outcome: HoldOutcome, retryGrant: GrantRecord | null): string {
  switch (outcome.status) {
    case 'approved':
      return retryGrant === null
        ? EmbeddedGatewayMessages.approved(outcome.approverId as string)
        : EmbeddedGatewayMessages.approvedForRetry(outcome.approverId as string, retryGrant.id);
    case 'rejected':
      return EmbeddedGatewayMessages.rejected();
    case 'withdrawn':
      return EmbeddedGatewayMessages.withdrawn();
    default:
      return EmbeddedGatewayMessages.expired();
  }
}

/** The `policy.loaded` event of a reload (docs/policy.md, "Hot reload"). */
export function policyLoadedInput(
  tenantId: string,
  previous: CompiledPolicy,
  next: CompiledPolicy,
): AuditEventInput {
  return {
    tenantId,
    sessionId: '',
    agentId: '',
    action: 'policy.load',
    parameters: {
      name: next.document.name,
      source: next.source,
      previousHash: previous.hash,
      previousVersion: previous.version,
    },
    decision: Decision.ALLOW,
    reason: PolicyLifecycleMessages.loaded(next.document.name, next.version, next.hash),
    kind: 'policy.loaded',
    policyHash: next.hash,
    policyVersion: next.version,
  };
}
