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
  type HoldWaiter,
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
   * Not an async function, and no promise of the hold's own: a held call
   * keeps only the answer's promise and the request and parameters the
   * ending is recorded with.
   */
  hold(call: HeldCall, onHeld: () => void): Promise<GatewayResponse> {
    let waiter!: HeldAnswer;
    const answer = new Promise<GatewayResponse>((resolve, reject) => {
      waiter = new HeldAnswer(this, call.request, call.parameters, resolve, reject);
    });
    try {
      this.holds.holdThen(call.ticket, call.timeoutMs, waiter);
    } catch (error) {
      // A refused hold (bad timeout, known id, no room) rejects the answer.
      waiter.reject(error);
    }
    onHeld();
    return answer;
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

  /** @internal The hold ended: records it (HeldAnswer calls this). */
  async ended(
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

/**
 * The answer of one held call, while it is held: the request and parameters
 * its ending is recorded with, and the answer's resolvers. One object, not
 * closures, since it lives as long as the human takes.
 */
class HeldAnswer implements HoldWaiter {
  constructor(
    private readonly store: LocalEscalationStore,
    private readonly request: GatewayRequest,
    private readonly parameters: Record<string, unknown> | null,
    private readonly resolve: (response: GatewayResponse) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  holdEnded(outcome: HoldOutcome): void {
    this.store.ended(this.request, this.parameters, outcome).then(this.resolve, this.reject);
  }
}
