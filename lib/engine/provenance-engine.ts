import { Decision } from '../protocol/decision';
import { GatewayClosedError, ProvenanceError } from '../protocol/provenance.errors';
import type { GrantInput, GrantRecord } from '../protocol/grant.types';
import type {
  EscalationRecord,
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
import { EmbeddedGatewayMessages, EngineMessages } from './engine.messages';
import { validateTimeout } from './escalation/escalation-holds';
import type { EscalationStore } from './escalation/escalation-store';
import { LocalEscalationStore } from './escalation/local-escalation-store';
import type { GrantStore } from './grants/grant-store';
import type { IdempotencyLookup } from './idempotency-cache';
import type { IdempotencyStore } from './idempotency-store';
import type {
  ProvenanceEngineOptions,
  EscalationLifecycleListener,
  ExecuteHooks,
} from './provenance-engine.types';
import { EnginePolicies } from './engine-policies';
import { EngineDecisions } from './engine-decisions';
import { InFlight } from './engine-in-flight';
import type { PolicyReload, PolicySource } from './policy/policy-in-force';
import type { ShadowReport } from './policy/shadow-policy';
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
  private readonly policies: EnginePolicies;
  private readonly audit: AuditLog;
  private readonly timeoutMs: number;
  private readonly escalations: EscalationStore;
  private readonly grantStore: GrantStore;
  private readonly recorder: EngineRecorder;
  private readonly idempotency: IdempotencyStore;
  private readonly inFlight = new InFlight();
  private readonly decisions: EngineDecisions;
  private readonly release: (() => Promise<void>) | undefined;
  private closing: Promise<void> | null = null;

  constructor(options: ProvenanceEngineOptions) {
    this.audit = options.audit;
    this.timeoutMs = options.escalationTimeoutMs ?? 60_000;
    validateTimeout(this.timeoutMs);
    this.tenantId = options.tenantId ?? 'local';
    this.recorder = new EngineRecorder(this.tenantId, this.audit);
    this.policies = new EnginePolicies({
      ...options,
      record: (previous, next) => this.recorder.policyLoaded(previous, next),
      reloadFile: (file) => this.reloadPolicy(file),
    });
    const stores = options.stores?.({ tenantId: this.tenantId, recorder: this.recorder }) ?? {};
    const grantBook = new GrantBook(this.tenantId);
    this.grantStore = stores.grants ?? grantBook;
    if (stores.escalations === undefined && stores.grants !== undefined) {
      // Retry grants of the in-memory holds go to their own book: refuse the mix.
      throw new ProvenanceError(EngineMessages.grantsWithoutEscalations());
    }
    this.escalations =
      stores.escalations ??
      new LocalEscalationStore({
        recorder: this.recorder,
        grants: grantBook,
        maxPending: options.maxPendingEscalations,
      });
    this.release = stores.release;
    const { tenantId, timeoutMs, recorder, grantStore: grants, escalations } = this;
    const escalating = { tenantId, timeoutMs, recorder, grants, escalations };
    this.decisions = new EngineDecisions(this.policies, escalating, this.inFlight);
    this.idempotency =
      stores.idempotency ??
      new IdempotencyCache(Math.max(0, options.idempotencyCacheSize ?? 10_000));
  }

  /**
   * Decides one call. Resolves with ALLOW or BLOCK (an escalation resolves
   * when it ends). A repeated idempotency key gets the first call's answer
   * (the same promise while it is in flight) and writes nothing; the same key
   * with a different call is BLOCKed and recorded.
   */
  execute(request: GatewayRequest, hooks: ExecuteHooks = {}): Promise<GatewayResponse> {
    const answer = this.executeNowOrLater(request, hooks);
    return answer instanceof Promise ? answer : Promise.resolve(answer);
  }

  /**
   * @internal `execute`, with the answer itself when the call was decided and
   * recorded in this call (EngineDecisions.now), else its promise: for the
   * embedded transport, which then settles its caller without a promise hop.
   */
  executeNowOrLater(
    request: GatewayRequest,
    hooks: ExecuteHooks = {},
  ): GatewayResponse | Promise<GatewayResponse> {
    if (this.closing !== null) {
      return Promise.reject(new GatewayClosedError(EmbeddedGatewayMessages.closed()));
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
      return this.decisions.now(request, parameters, hooks);
    }
    const seen = this.idempotency.lookup(key, request, parameters);
    if (seen instanceof Promise) {
      return this.track(
        seen.then((found) => this.answerKeyed(key, found, request, parameters, hooks)),
      );
    }
    return this.answerKeyed(key, seen, request, parameters, hooks);
  }

  /** A call with an idempotency key, once the key has been looked up. */
  private answerKeyed(
    key: string,
    seen: IdempotencyLookup,
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    hooks: ExecuteHooks,
  ): Promise<GatewayResponse> {
    if (seen.kind === 'replay') {
      // The first answer again, not decided again; the replay itself is audited.
      return this.track(
        seen.response.then(async (response) => {
          await this.recorder.replayed(request, parameters, response, this.policies.current);
          return response;
        }),
      );
    }
    if (seen.kind === 'conflict') {
      const reason = EmbeddedGatewayMessages.idempotencyConflict();
      return this.track(this.recorder.decision(request, Decision.BLOCK, reason, parameters));
    }
    const response = this.track(this.decisions.decide(request, parameters, hooks));
    this.idempotency.remember(key, seen.fingerprint, response);
    return response;
  }

  /** The policy in force now (a reload replaces it). */
  get policy(): CompiledPolicy {
    return this.policies.current;
  }

  /**
   * Puts a new policy in force: `policy` (a path, a document, a compiled
   * policy) or, without it, the policy file read again. Recorded as a
   * `policy.loaded` event before it decides anything; a policy that fails
   * validation is refused (PolicyValidationError) and the old one stays.
   */
  reloadPolicy(policy?: PolicySource): Promise<PolicyReload> {
    if (this.closing !== null) {
      return Promise.reject(new GatewayClosedError(EmbeddedGatewayMessages.closed()));
    }
    return this.track(this.policies.reload(policy));
  }

  /** What the shadow policy would have decided differently; null when none is set. */
  shadowReport(): ShadowReport | null {
    return this.policies.shadowReport();
  }

  /** The escalations this engine knows to be waiting for a human, oldest first (no I/O). */
  pending(): EscalationRecord[] {
    return this.escalations.pending();
  }

  /**
   * Every escalation of the tenant waiting for a human, oldest first, read
   * from the store: with a shared store, those every replica holds.
   */
  listPending(): Promise<EscalationRecord[]> {
    return this.escalations.listPending();
  }

  /** A held or recently ended escalation. */
  escalation(escalationId: string): Promise<EscalationRecord | undefined> {
    return this.escalations.get(escalationId);
  }

  /**
   * Approves or rejects a held call. Throws `EscalationNotFoundError` when the
   * id is unknown or already ended, `ApprovalForbiddenError` when the approver
   * is the agent that asked, `EscalationError` for another verdict word or a
   * missing approver. Resolves once the hold's end is recorded.
   */
  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    checkReview(escalationId, verdict, input);
    const reason = input.reason ?? null;
    await this.escalations.decide(escalationId, verdict, { approverId: input.approverId, reason });
    return { escalationId, decision: verdict, approverId: input.approverId, reason };
  }

  /**
   * The caller gave up on purpose (unsubscribed, aborted): the hold ends as
   * withdrawn (audited, BLOCK), so no reviewer can approve a call that will
   * never run. False when it had already ended.
   */
  withdraw(escalationId: string): Promise<boolean> {
    return this.escalations.withdraw(escalationId);
  }

  /**
   * The caller stopped waiting without withdrawing (its connection closed, its
   * client timed out): the hold stays for a human, and an approval becomes a
   * single-use grant for the identical call. False when it had already ended.
   */
  detach(escalationId: string): Promise<boolean> {
    return this.escalations.detach(escalationId);
  }

  /**
   * A reviewer's standing grant: calls the policy escalates that match it are
   * allowed without a hold, `maxUses` times, until it expires. Recorded in the
   * audit log; each use is too.
   */
  async grant(input: GrantInput, grantedBy: string): Promise<GrantRecord> {
    if (this.closing !== null) throw new GatewayClosedError(EmbeddedGatewayMessages.closed());
    const grant = await this.grantStore.grant(input, grantedBy);
    await this.recorder.grantChanged('grant.created', grant, grantedBy);
    return grant;
  }

  /** Ends a grant before its time; `GrantNotFoundError` when it is not active. */
  async revokeGrant(grantId: string, revokedBy: string): Promise<GrantRecord> {
    const grant = await this.grantStore.revoke(grantId);
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
  async grants(): Promise<GrantRecord[]> {
    return this.grantStore.list();
  }

  /** Subscribes to escalation steps (pending, approved, rejected, expired, withdrawn); returns the unsubscribe. */
  onEscalation(listener: EscalationLifecycleListener): () => void {
    return this.escalations.onEvent(listener);
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
      this.policies.close();
      await this.escalations.close().catch((error: unknown) => {
        console.warn(
          EngineMessages.closeFailed(error instanceof Error ? error.message : String(error)),
        );
      });
      await this.inFlight.whenIdle();
      this.idempotency.clear();
      try {
        await this.audit.close();
      } finally {
        await this.release?.();
      }
    })();
    return this.closing;
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    return this.inFlight.track(promise);
  }
}
