import {
  EscalationError,
  EscalationLimitError,
  EscalationNotFoundError,
  ProvenanceConfigError,
} from '../../protocol/provenance.errors';
import type { EscalationRecord, EscalationStatus } from '../../protocol/gateway.types';
import { EscalationMessages } from '../engine.messages';

/** The largest delay setTimeout honours; above it Node fires at once, which would expire every hold. */
export const MAX_HOLD_MS = 2_147_483_647;

/** What is held: one exact call, bound by the hash of its parameters. */
export interface HoldTicket {
  escalationId: string;
  tenantId: string | null;
  agentId: string;
  sessionId: string;
  action: string;
  parameters: Record<string, unknown> | null;
  /** sha256 of the canonical JSON of `parameters`: the decision applies to this call only. */
  parametersHash: string;
  /** Why the policy escalated. */
  reason: string;
  /** ISO time the call was held. Default: now. */
  createdAt?: string;
}

export type HoldStatus = 'approved' | 'rejected' | 'expired' | 'withdrawn';

export interface HoldOutcome {
  escalationId: string;
  status: HoldStatus;
  /** Who decided; null when the hold expired. */
  approverId: string | null;
  /** The approver's reason; for an expiry, null, or 'gateway closed' when closing ended it. */
  reason: string | null;
  decidedAt: string;
  /** The call this outcome is bound to. */
  parametersHash: string;
  /**
   * False when the caller had stopped waiting before the hold ended (its
   * connection closed without withdrawing): an approval then has no caller
   * to answer, and the engine turns it into a single-use grant.
   */
  callerWaiting: boolean;
}

export interface HoldDecisionInput {
  approverId: string;
  reason?: string | null;
}

export type HoldEventType = 'pending' | HoldStatus;

export interface HoldEvent {
  type: HoldEventType;
  record: EscalationRecord;
}

export type HoldListener = (event: HoldEvent) => void;

export interface EscalationHoldsOptions {
  /** How many ended escalations `get()` still knows. Default 10 000. */
  keepResolved?: number;
  /** How many calls may be held at once; one more is refused with EscalationLimitError. Default 10 000. */
  maxPending?: number;
  now?: () => Date;
}

const STATUS_OF: Record<HoldStatus, EscalationStatus> = {
  approved: 'APPROVED',
  rejected: 'REJECTED',
  expired: 'TIMEOUT',
  withdrawn: 'WITHDRAWN',
};

/**
 * One held call. A plain class rather than closures, so a hold costs one
 * object, its record, its promise's resolver and one timer.
 */
class Hold {
  constructor(
    readonly record: EscalationRecord,
    readonly resolve: (outcome: HoldOutcome) => void,
    public timer: NodeJS.Timeout | null,
    public callerWaiting = true,
  ) {}
}

/**
 * Calls held until a human decides, or a deadline passes. Every hold ends
 * exactly once: whichever of approve, reject, the timer or close() comes
 * first removes it from the pending map, and the others then find nothing
 * (approve/reject throw `EscalationNotFoundError`, a late timer does nothing).
 * All of this runs on the one JS thread, so "first" is well defined.
 *
 * On close() every pending hold ends as expired with reason 'gateway closed':
 * the calls are blocked (fail closed), never approved, and no timer is left.
 */
export class EscalationHolds {
  private readonly holds = new Map<string, Hold>();
  private readonly resolved = new Map<string, EscalationRecord>();
  private readonly listeners = new Set<HoldListener>();
  private readonly keepResolved: number;
  readonly maxPending: number;
  private readonly now: () => Date;
  private closed = false;

  constructor(options: EscalationHoldsOptions = {}) {
    this.keepResolved = Math.max(0, options.keepResolved ?? 10_000);
    this.maxPending = Math.max(1, options.maxPending ?? 10_000);
    this.now = options.now ?? (() => new Date());
  }

  /** Holds a call until it is decided or `timeoutMs` passes. Never rejects for a valid ticket. */
  hold(ticket: HoldTicket, timeoutMs: number): Promise<HoldOutcome> {
    try {
      validateTimeout(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.holds.has(ticket.escalationId) || this.resolved.has(ticket.escalationId)) {
      return Promise.reject(
        new EscalationError(EscalationMessages.duplicateId(ticket.escalationId), {
          action: ticket.action,
          escalationId: ticket.escalationId,
        }),
      );
    }
    try {
      this.assertRoom(ticket.action);
    } catch (error) {
      return Promise.reject(error);
    }
    const record = pendingRecordOf(ticket, ticket.createdAt ?? this.now().toISOString());
    return new Promise<HoldOutcome>((resolve) => {
      const hold = new Hold(record, resolve, null);
      this.holds.set(record.id, hold);
      this.emit({ type: 'pending', record: { ...record } });
      if (this.closed) {
        this.end(record.id, 'expired', null, EscalationMessages.closedReason());
        return;
      }
      // `this.expire` with the id as an argument: no closure per hold.
      hold.timer = setTimeout(this.expire, timeoutMs, record.id);
      hold.timer.unref();
    });
  }

  /** Throws EscalationLimitError when `maxPending` calls are held already. */
  assertRoom(action: string): void {
    if (this.holds.size >= this.maxPending) {
      throw new EscalationLimitError(
        action,
        this.maxPending,
        EscalationMessages.tooManyPending(this.maxPending),
      );
    }
  }

  approve(escalationId: string, input: HoldDecisionInput): HoldOutcome {
    return this.decide(escalationId, 'approved', input);
  }

  reject(escalationId: string, input: HoldDecisionInput): HoldOutcome {
    return this.decide(escalationId, 'rejected', input);
  }

  /**
   * The caller gave up on purpose (unsubscribed, aborted): the hold ends as
   * withdrawn, so no reviewer can approve a call that will never run. Returns
   * null when it had already ended.
   */
  withdraw(escalationId: string, reason: string | null = null): HoldOutcome | null {
    return this.end(escalationId, 'withdrawn', null, reason);
  }

  /**
   * The caller stopped waiting without withdrawing (a connection that closed,
   * a client that timed out): the hold stays for a human, and an approval
   * becomes a single-use grant for the identical call. Returns false when the
   * hold had already ended.
   */
  detach(escalationId: string): boolean {
    const hold = this.holds.get(escalationId);
    if (hold === undefined) return false;
    hold.callerWaiting = false;
    return true;
  }

  /** The held escalations, oldest first (copies). */
  pending(): EscalationRecord[] {
    return Array.from(this.holds.values(), (hold) => ({ ...hold.record }));
  }

  /** A held or recently ended escalation (a copy), or undefined. */
  get(escalationId: string): EscalationRecord | undefined {
    const record = this.holds.get(escalationId)?.record ?? this.resolved.get(escalationId);
    return record === undefined ? undefined : { ...record };
  }

  get size(): number {
    return this.holds.size;
  }

  /** Subscribes to pending/approved/rejected/expired; returns the unsubscribe function. */
  onEvent(listener: HoldListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Ends every pending hold as expired ('gateway closed') and clears every timer. Idempotent. */
  close(): void {
    this.closed = true;
    for (const id of Array.from(this.holds.keys())) {
      this.end(id, 'expired', null, EscalationMessages.closedReason());
    }
  }

  private decide(escalationId: string, status: HoldStatus, input: HoldDecisionInput): HoldOutcome {
    const outcome = this.end(escalationId, status, input.approverId, input.reason ?? null);
    if (outcome === null) throw new EscalationNotFoundError(escalationId);
    return outcome;
  }

  private readonly expire = (escalationId: string): void => {
    this.end(escalationId, 'expired', null, null);
  };

  /** The one place a hold ends; returns null when it had already ended. */
  private end(
    escalationId: string,
    status: HoldStatus,
    approverId: string | null,
    reason: string | null,
  ): HoldOutcome | null {
    const hold = this.holds.get(escalationId);
    if (hold === undefined) return null;
    this.holds.delete(escalationId);
    if (hold.timer !== null) clearTimeout(hold.timer);
    hold.timer = null;

    const decidedAt = this.now().toISOString();
    const record = hold.record;
    record.status = STATUS_OF[status];
    record.approverId = approverId;
    record.reason = reason;
    record.decidedAt = decidedAt;
    record.updatedAt = decidedAt;
    this.remember(record);

    const outcome: HoldOutcome = {
      escalationId,
      status,
      approverId,
      reason,
      decidedAt,
      parametersHash: record.parametersHash as string,
      callerWaiting: hold.callerWaiting,
    };
    hold.resolve(outcome);
    this.emit({ type: status, record: { ...record } });
    return outcome;
  }

  private remember(record: EscalationRecord): void {
    if (this.keepResolved === 0) return;
    this.resolved.set(record.id, record);
    if (this.resolved.size > this.keepResolved) {
      this.resolved.delete(this.resolved.keys().next().value as string);
    }
  }

  private emit(event: HoldEvent): void {
    notifyHoldListeners(this.listeners, event);
  }
}

/** The record of a hold that has just begun: PENDING, nothing decided yet. */
export function pendingRecordOf(ticket: HoldTicket, createdAt: string): EscalationRecord {
  return {
    id: ticket.escalationId,
    tenantId: ticket.tenantId,
    agentId: ticket.agentId,
    action: ticket.action,
    parametersHash: ticket.parametersHash,
    status: 'PENDING',
    approverId: null,
    decidedAt: null,
    reason: ticket.reason,
    createdAt,
    updatedAt: createdAt,
    sessionId: ticket.sessionId,
    parameters: ticket.parameters,
  };
}

/**
 * Hands an escalation step to every listener. A listener's failure must not
 * keep a hold from ending or reach the caller who decided: it is logged.
 */
export function notifyHoldListeners(listeners: Iterable<HoldListener>, event: HoldEvent): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      console.warn(
        EscalationMessages.listenerFailed(error instanceof Error ? error.message : String(error)),
      );
    }
  }
}

export function validateTimeout(timeoutMs: number): void {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_HOLD_MS) {
    throw new ProvenanceConfigError(
      'escalationTimeoutMs',
      EscalationMessages.badTimeout(String(timeoutMs)),
    );
  }
}
