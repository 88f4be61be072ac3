import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ProvenanceReviewer } from '../escalation/provenance.reviewer';
import type { EscalationEvent } from '../protocol/escalation-event';
import type { ReviewOutcome, ReviewVerdict } from '../protocol/gateway.types';
import { ProvenanceError } from '../protocol/provenance.errors';
import { TestingMessages } from './testing.messages';

/** How the test reviewer behaves; `ProvenanceTestingModule.forRoot()` passes its own options on. */
export interface ProvenanceTestReviewerOptions {
  /** Who decides, as the audit log records it. Default `test-approver`. */
  approverId: string;
  /** Approve every escalation as it is raised. Default false; can be changed later on the reviewer. */
  autoApprove: boolean;
  /** How long `nextEscalation()`, `approveNext()` and `rejectNext()` wait for an escalation, in ms. */
  waitMs: number;
}

interface Waiter<T> {
  what: string;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface DecisionWaiter extends Waiter<ReviewOutcome> {
  verdict: ReviewVerdict;
  reason: string | null;
}

/**
 * The human of a test: decides the escalations the app's calls raise, on the
 * real `ProvenanceReviewer` (so the audit log, the four-eyes rule and the
 * held call's outcome are the library's own).
 *
 * - `autoApprove = true`: every escalation is approved as it is raised;
 * - `approveNext(reason?)` / `rejectNext(reason?)`: decide the oldest
 *   escalation no earlier approveNext/rejectNext took, or, when none waits,
 *   the next one raised (call it before or after the call, either works);
 * - `nextEscalation()`: the next escalation raised (the first call gives the
 *   first escalation of the test, the second the second, ...), whether it is
 *   still waiting or not; `escalations` lists all of them.
 * A wait that sees no escalation rejects after the module's escalation
 * timeout with an error that says so, instead of hanging the test.
 */
@Injectable()
export class ProvenanceTestReviewer implements OnModuleDestroy {
  approverId: string;
  autoApprove: boolean;
  private readonly raised: EscalationEvent[] = [];
  private cursor = 0;
  private readonly raisedWaiters: Array<Waiter<EscalationEvent>> = [];
  private readonly undecided: EscalationEvent[] = [];
  private readonly decisionWaiters: DecisionWaiter[] = [];
  private readonly subscription: Subscription;
  private closed = false;

  constructor(
    readonly reviewer: ProvenanceReviewer,
    private readonly options: ProvenanceTestReviewerOptions,
  ) {
    this.approverId = options.approverId;
    this.autoApprove = options.autoApprove;
    this.subscription = reviewer.escalations$.subscribe({
      next: (event) => this.onEvent(event),
      complete: () => this.close(),
      error: () => this.close(),
    });
  }

  /** Every escalation raised since the module started (their `pending` events), oldest first. */
  get escalations(): readonly EscalationEvent[] {
    return this.raised;
  }

  /** The next escalation raised (see the class); waits for it when it has not been raised yet. */
  nextEscalation(): Promise<EscalationEvent> {
    if (this.cursor < this.raised.length) return Promise.resolve(this.raised[this.cursor++]);
    return this.wait('nextEscalation()', (waiter) => this.raisedWaiters.push(waiter));
  }

  /** Approves the next escalation (see the class) as `approverId`; resolves with the decision. */
  approveNext(reason?: string): Promise<ReviewOutcome> {
    return this.decideNext('approveNext()', 'APPROVE', reason);
  }

  /** Rejects the next escalation (its call raises EscalationRejectedError); resolves with the decision. */
  rejectNext(reason?: string): Promise<ReviewOutcome> {
    return this.decideNext('rejectNext()', 'REJECT', reason);
  }

  /** Approves one escalation by id, as `approverId`. */
  approve(escalationId: string, reason?: string): Promise<ReviewOutcome> {
    return this.decide(escalationId, 'APPROVE', reason ?? null);
  }

  /** Rejects one escalation by id, as `approverId`. */
  reject(escalationId: string, reason?: string): Promise<ReviewOutcome> {
    return this.decide(escalationId, 'REJECT', reason ?? null);
  }

  onModuleDestroy(): void {
    this.close();
  }

  private onEvent(event: EscalationEvent): void {
    if (event.type !== 'pending') {
      // Decided elsewhere (the app's own reviewer call), expired or withdrawn: nothing to take.
      const index = this.undecided.findIndex((e) => e.escalationId === event.escalationId);
      if (index >= 0) this.undecided.splice(index, 1);
      return;
    }
    if (this.raised.some((e) => e.escalationId === event.escalationId)) return;
    this.raised.push(event);
    const watcher = this.raisedWaiters.shift();
    if (watcher) {
      clearTimeout(watcher.timer);
      this.cursor++;
      watcher.resolve(event);
    }
    if (this.autoApprove) {
      this.decide(event.escalationId, 'APPROVE', null).catch(() => undefined);
      return;
    }
    const decider = this.decisionWaiters.shift();
    if (decider) {
      clearTimeout(decider.timer);
      this.decide(event.escalationId, decider.verdict, decider.reason).then(
        decider.resolve,
        decider.reject,
      );
      return;
    }
    this.undecided.push(event);
  }

  private decideNext(
    what: string,
    verdict: ReviewVerdict,
    reason?: string,
  ): Promise<ReviewOutcome> {
    const next = this.undecided.shift();
    if (next) return this.decide(next.escalationId, verdict, reason ?? null);
    return this.wait<ReviewOutcome>(what, (waiter) =>
      this.decisionWaiters.push({ ...waiter, verdict, reason: reason ?? null }),
    );
  }

  private decide(
    id: string,
    verdict: ReviewVerdict,
    reason: string | null,
  ): Promise<ReviewOutcome> {
    const input = { approverId: this.approverId, reason };
    return verdict === 'APPROVE'
      ? this.reviewer.approve(id, input)
      : this.reviewer.reject(id, input);
  }

  private wait<T>(what: string, enqueue: (waiter: Waiter<T>) => void): Promise<T> {
    if (this.closed) return Promise.reject(new ProvenanceError(TestingMessages.closed(what)));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        what,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.forget(waiter as Waiter<unknown>);
          reject(new ProvenanceError(TestingMessages.noEscalation(what, this.options.waitMs)));
        }, this.options.waitMs),
      };
      waiter.timer.unref?.();
      enqueue(waiter);
    });
  }

  private forget(waiter: Waiter<unknown>): void {
    for (const list of [this.raisedWaiters, this.decisionWaiters] as Array<
      Array<Waiter<unknown>>
    >) {
      const index = list.indexOf(waiter);
      if (index >= 0) list.splice(index, 1);
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    for (const waiter of [...this.raisedWaiters, ...this.decisionWaiters] as Array<
      Waiter<unknown>
    >) {
      clearTimeout(waiter.timer);
      waiter.reject(new ProvenanceError(TestingMessages.closed(waiter.what)));
    }
    this.raisedWaiters.length = 0;
    this.decisionWaiters.length = 0;
  }
}
