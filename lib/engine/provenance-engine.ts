import { randomUUID } from 'node:crypto';
import { Decision } from '../protocol/decision';
import {
  ApprovalForbiddenError,
  EscalationNotFoundError,
  ProvenanceError,
} from '../protocol/provenance.errors';
import type { GrantInput, GrantRecord } from '../protocol/grant.types';
import { normalizedPayloadHash } from '../protocol/canonical-json';
import type {
  EscalationRecord,
  EscalationTicket,
  GatewayRequest,
  GatewayResponse,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../protocol/gateway.types';
import type { AuditVerification } from './audit/audit-chain';
import type { AuditLog } from './audit/audit-log';
import { IdempotencyCache } from './idempotency-cache';
import { acceptRequest, checkReview } from './engine-request';
import { EngineRecorder } from './engine-recorder';
import { GrantBook } from './grants/grant-book';
import { EmbeddedGatewayMessages, EscalationMessages } from './engine.messages';
import { EscalationHolds, validateTimeout, type HoldOutcome } from './escalation/escalation-holds';
import type {
  ProvenanceEngineOptions,
  EscalationLifecycleListener,
  ExecuteHooks,
} from './provenance-engine.types';
import type { CompiledPolicy } from './policy/policy.types';

/**
 * The gateway of docs/protocol.md, in this process: evaluates the policy, records
 * every decision in the audit log before answering, and holds escalated calls
 * until a human decides or the deadline passes. No Nest, no rxjs: the
 * embedded transport adapts it to the GatewayTransport seam.
 *
 * Every answer is written to the audit log (and durable) before it is
 * returned; if the log cannot be written, `execute` rejects and the call must
 * not run (fail closed), even after a human approved it.
 */
export class ProvenanceEngine {
  readonly tenantId: string;
  private readonly policy: CompiledPolicy;
  private readonly audit: AuditLog;
  private readonly timeoutMs: number;
  private readonly holds: EscalationHolds;
  private readonly grantBook: GrantBook;
  private readonly recorder: EngineRecorder;
  /** Held calls whose end is being recorded: decide() waits for a detached one's grant. */
  private readonly endings = new Map<string, { done: Promise<void>; finish: () => void }>();
  private readonly idempotency: IdempotencyCache;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  constructor(options: ProvenanceEngineOptions) {
    this.policy = options.policy;
    this.audit = options.audit;
    this.timeoutMs = options.escalationTimeoutMs ?? 60_000;
    validateTimeout(this.timeoutMs);
    this.tenantId = options.tenantId ?? 'local';
    this.holds = new EscalationHolds({ maxPending: options.maxPendingEscalations });
    this.grantBook = new GrantBook(this.tenantId);
    this.recorder = new EngineRecorder(this.tenantId, this.audit);
    this.idempotency = new IdempotencyCache(Math.max(0, options.idempotencyCacheSize ?? 10_000));
  }

  /**
   * Decides one call. Resolves with ALLOW or BLOCK (an escalation resolves
   * when it ends). A repeated idempotency key gets the first call's answer
   * (the same promise while it is in flight) and writes nothing; the same key
   * with a different call is BLOCKed and recorded.
   */
  execute(request: GatewayRequest, hooks: ExecuteHooks = {}): Promise<GatewayResponse> {
    if (this.closing !== null) {
      return Promise.reject(new ProvenanceError(EmbeddedGatewayMessages.closed()));
    }
    // The normalised parameters: evaluated, fingerprinted and recorded, by
    // every event of this call (their canonical text is remembered with them).
    let parameters: Record<string, unknown> | null;
    try {
      parameters = acceptRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    const key = request.idempotencyKey;
    if (key === undefined || key === null || !this.idempotency.enabled) {
      return this.track(this.decideCall(request, parameters, hooks));
    }
    const seen = this.idempotency.lookup(key, request, parameters);
    if (seen.kind === 'replay') {
      // The first answer again, not decided again; the replay itself is audited.
      return this.track(
        seen.response.then(async (response) => {
          await this.recorder.replayed(request, parameters, response);
          return response;
        }),
      );
    }
    if (seen.kind === 'conflict') {
      const reason = EmbeddedGatewayMessages.idempotencyConflict();
      return this.track(this.recorder.decision(request, Decision.BLOCK, reason, parameters));
    }
    const response = this.track(this.decideCall(request, parameters, hooks));
    this.idempotency.remember(key, seen.fingerprint, response);
    return response;
  }

  /** The escalations waiting for a human, oldest first. */
  pending(): EscalationRecord[] {
    return this.holds.pending();
  }

  /** A held or recently ended escalation. */
  escalation(escalationId: string): EscalationRecord | undefined {
    return this.holds.get(escalationId);
  }

  /**
   * Approves or rejects a held call. Throws `EscalationNotFoundError` when the
   * id is unknown or already ended, `EscalationError` for another verdict word
   * or a missing approver. Resolves once the hold has ended; the held call's
   * own `execute` resolves after its final event is written.
   */
  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    checkReview(escalationId, verdict, input);
    const reason = input.reason ?? null;
    const decision = { approverId: input.approverId, reason };
    const held = this.holds.get(escalationId);
    if (held === undefined || held.status !== 'PENDING') {
      throw new EscalationNotFoundError(escalationId);
    }
    if (verdict === 'APPROVE' && held.agentId === input.approverId) {
      throw new ApprovalForbiddenError(
        escalationId,
        input.approverId,
        EmbeddedGatewayMessages.selfApproval(input.approverId),
      );
    }
    const ending = this.endings.get(escalationId)?.done;
    if (verdict === 'APPROVE') {
      const outcome = this.holds.approve(escalationId, decision);
      // No caller to answer: resolve only once the single-use grant is in
      // force, so that the retry the reviewer expects finds it.
      if (!outcome.callerWaiting) await ending?.catch(() => undefined);
    } else this.holds.reject(escalationId, decision);
    return { escalationId, decision: verdict, approverId: input.approverId, reason };
  }

  /**
   * The caller gave up on purpose (unsubscribed, aborted): the hold ends as
   * withdrawn (audited, BLOCK), so no reviewer can approve a call that will
   * never run. False when it had already ended.
   */
  withdraw(escalationId: string): boolean {
    return this.holds.withdraw(escalationId) !== null;
  }

  /**
   * The caller stopped waiting without withdrawing (its connection closed, its
   * client timed out): the hold stays for a human, and an approval becomes a
   * single-use grant for the identical call. False when it had already ended.
   */
  detach(escalationId: string): boolean {
    if (!this.holds.detach(escalationId)) return false;
    if (!this.endings.has(escalationId)) {
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      this.endings.set(escalationId, { done, finish });
    }
    return true;
  }

  /**
   * A reviewer's standing grant: calls the policy escalates that match it are
   * allowed without a hold, `maxUses` times, until it expires. Recorded in the
   * audit log; each use is too.
   */
  async grant(input: GrantInput, grantedBy: string): Promise<GrantRecord> {
    if (this.closing !== null) throw new ProvenanceError(EmbeddedGatewayMessages.closed());
    const grant = this.grantBook.grant(input, grantedBy);
    await this.recorder.grantChanged('grant.created', grant, grantedBy);
    return grant;
  }

  /** Ends a grant before its time; `GrantNotFoundError` when it is not active. */
  async revokeGrant(grantId: string, revokedBy: string): Promise<GrantRecord> {
    const grant = this.grantBook.revoke(grantId);
    await this.recorder.grantChanged('grant.revoked', grant, revokedBy);
    return grant;
  }

  /**
   * Records a decided call that was refused before its body ran (its
   * arguments changed after the decision); resolves with the event id.
   */
  recordRefusal(request: GatewayRequest, reason: string): Promise<string> {
    let parameters: Record<string, unknown> | null;
    try {
      parameters = acceptRequest(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.track(this.recorder.refused(request, parameters, reason));
  }

  /** The active grants, oldest first. */
  grants(): GrantRecord[] {
    return this.grantBook.list();
  }

  /** Subscribes to escalation steps (pending, approved, rejected, expired, withdrawn); returns the unsubscribe. */
  onEscalation(listener: EscalationLifecycleListener): () => void {
    return this.holds.onEvent(listener);
  }

  verify(): Promise<AuditVerification> {
    return this.audit.verify();
  }

  /**
   * Ends every held call as expired ('gateway closed': blocked, never
   * approved), waits for the calls in flight to record their final events,
   * then closes the audit log. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.holds.close();
      await Promise.allSettled(Array.from(this.inFlight));
      this.idempotency.clear();
      await this.audit.close();
    })();
    return this.closing;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const done = () => this.inFlight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** `parameters`: the call's, normalised (see validate); no event walks them again. */
  private async decideCall(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    hooks: ExecuteHooks,
  ): Promise<GatewayResponse> {
    const verdict = this.policy.evaluate(request.action, parameters);
    if (verdict.decision !== Decision.ESCALATE) {
      return this.recorder.decision(request, verdict.decision, verdict.reason, parameters);
    }
    // A grant only ever stands in for a human: it never overrides a BLOCK.
    const grant = this.grantBook.use({
      request,
      parameters,
      parametersHash: () => normalizedPayloadHash(parameters),
    });
    if (grant !== null) return this.recorder.grantUsed(request, parameters, grant);

    // Full: refused before anything is recorded or announced (never allowed).
    this.holds.assertRoom(request.action);
    const escalationId = randomUUID();
    const pendingEvent = await this.recorder.pending(
      request,
      parameters,
      verdict.reason,
      escalationId,
    );
    const createdAt = pendingEvent.timestamp;
    const ticket: EscalationTicket = {
      escalationId,
      action: request.action,
      agentId: request.agentId,
      sessionId: request.sessionId,
      parameters: pendingEvent.parameters,
      reason: verdict.reason,
      createdAt,
      expiresAt: new Date(Date.parse(createdAt) + this.timeoutMs).toISOString(),
    };
    const outcome = this.holds.hold(
      {
        escalationId,
        tenantId: this.tenantId,
        agentId: request.agentId,
        sessionId: request.sessionId,
        action: request.action,
        parameters: pendingEvent.parameters,
        parametersHash: pendingEvent.payloadHash,
        reason: verdict.reason,
        createdAt,
      },
      this.timeoutMs,
    );
    try {
      hooks.onEscalated?.(ticket);
    } catch (error) {
      // The caller's hook must not leave a held call without an answer.
      console.warn(
        EscalationMessages.listenerFailed(error instanceof Error ? error.message : String(error)),
      );
    }
    try {
      return await this.endHold(request, parameters, await outcome);
    } finally {
      // Only detached holds are waited on (see detach); nothing is kept per held call.
      const ending = this.endings.get(escalationId);
      if (ending !== undefined) {
        this.endings.delete(escalationId);
        ending.finish();
      }
    }
  }

  /** Records a hold's end; an approval with no caller left becomes a single-use grant. */
  private async endHold(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    ended: HoldOutcome,
  ): Promise<GatewayResponse> {
    const { escalationId } = ended;
    // Approved with no caller left to answer: the identical call, retried, is allowed once.
    const retryGrant =
      ended.status === 'approved' && !ended.callerWaiting
        ? this.grantBook.singleUseFor(
            { ...request, parametersHash: ended.parametersHash },
            escalationId,
            ended.approverId as string,
            ended.reason,
          )
        : null;
    if (retryGrant === null) return this.recorder.outcome(request, parameters, ended, null);
    await this.recorder.grantChanged('grant.created', retryGrant, retryGrant.grantedBy);
    const response = await this.recorder.outcome(request, parameters, ended, retryGrant);
    this.grantBook.admit(retryGrant);
    return response;
  }
}
