import { ApprovalForbiddenError, EscalationNotFoundError } from '../../protocol/provenance.errors';
import type {
  EscalationRecord,
  GatewayRequest,
  GatewayResponse,
  ReviewVerdict,
} from '../../protocol/gateway.types';
import type { EngineRecorder } from '../engine-recorder';
import { EmbeddedGatewayMessages } from '../engine.messages';
import type { GrantBook } from '../grants/grant-book';
import {
  EscalationHolds,
  type HoldDecisionInput,
  type HoldListener,
  type HoldOutcome,
} from './escalation-holds';
import type { EscalationStore, HeldCall } from './escalation-store';

export interface LocalEscalationStoreOptions {
  recorder: EngineRecorder;
  /** Where an approval whose caller stopped waiting becomes a single-use grant. */
  grants: GrantBook;
  /** How many calls may be held at once. Default 10 000. */
  maxPending?: number;
}

/**
 * Held calls in this process's memory (EscalationHolds): the store of one
 * process. Each ending is recorded by the engine's recorder before the held
 * call is answered; an approval that finds no caller waiting is recorded
 * with a single-use grant, which is in force before `decide` resolves.
 */
export class LocalEscalationStore implements EscalationStore {
  private readonly holds: EscalationHolds;
  private readonly recorder: EngineRecorder;
  private readonly grantBook: GrantBook;
  /** Held calls whose end is being recorded: decide() waits for a detached one's grant. */
  private readonly endings = new Map<string, { done: Promise<void>; finish: () => void }>();

  constructor(options: LocalEscalationStoreOptions) {
    this.holds = new EscalationHolds({ maxPending: options.maxPending });
    this.recorder = options.recorder;
    this.grantBook = options.grants;
  }

  get maxPending(): number {
    return this.holds.maxPending;
  }

  assertRoom(action: string): void {
    this.holds.assertRoom(action);
  }

  /**
   * Not an async function: a suspended one would keep its whole frame (the
   * call, its ticket, `onHeld` and the announced ticket) for the hold's life.
   * While the call is held only the request and its parameters are kept here.
   */
  hold(call: HeldCall, onHeld: () => void): Promise<GatewayResponse> {
    const { request, parameters } = call;
    const outcome = this.holds.hold(call.ticket, call.timeoutMs);
    onHeld();
    // A bound function: smaller than a closure and its context.
    return outcome.then(this.ended.bind(this, request, parameters));
  }

  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    decision: HoldDecisionInput,
  ): Promise<void> {
    const held = this.holds.get(escalationId);
    if (held === undefined || held.status !== 'PENDING') {
      throw new EscalationNotFoundError(escalationId);
    }
    if (verdict === 'APPROVE' && held.agentId === decision.approverId) {
      throw new ApprovalForbiddenError(
        escalationId,
        decision.approverId,
        EmbeddedGatewayMessages.selfApproval(decision.approverId),
      );
    }
    const ending = this.endings.get(escalationId)?.done;
    if (verdict === 'APPROVE') {
      const outcome = this.holds.approve(escalationId, decision);
      // No caller to answer: resolve only once the single-use grant is in
      // force, so that the retry the reviewer expects finds it.
      if (!outcome.callerWaiting) await ending?.catch(() => undefined);
    } else this.holds.reject(escalationId, decision);
  }

  async withdraw(escalationId: string): Promise<boolean> {
    return this.holds.withdraw(escalationId) !== null;
  }

  async detach(escalationId: string): Promise<boolean> {
    if (!this.holds.detach(escalationId)) return false;
    if (!this.endings.has(escalationId)) {
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      this.endings.set(escalationId, { done, finish });
    }
    return true;
  }

  pending(): EscalationRecord[] {
    return this.holds.pending();
  }

  async listPending(): Promise<EscalationRecord[]> {
    return this.holds.pending();
  }

  async get(escalationId: string): Promise<EscalationRecord | undefined> {
    return this.holds.get(escalationId);
  }

  /** The held or recently ended escalation, at once (this store keeps them in memory). */
  getNow(escalationId: string): EscalationRecord | undefined {
    return this.holds.get(escalationId);
  }

  onEvent(listener: HoldListener): () => void {
    return this.holds.onEvent(listener);
  }

  async close(): Promise<void> {
    this.holds.close();
  }

  private async ended(
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
    ended: HoldOutcome,
  ): Promise<GatewayResponse> {
    try {
      return await this.endHold(request, parameters, ended);
    } finally {
      // Only detached holds are waited on (see detach); nothing is kept per held call.
      const ending = this.endings.get(ended.escalationId);
      if (ending !== undefined) {
        this.endings.delete(ended.escalationId);
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
