import {
  notifyHoldListeners,
  type HoldEventType,
  type HoldListener,
} from '../engine/escalation/escalation-holds';
import type { EscalationRecord, GatewayResponse } from '../protocol/gateway.types';
import { EscalationError } from '../protocol/provenance.errors';
import {
  holdStatusOf,
  outcomeOf,
  pendingRecordOf,
  recordOf,
  type EscalationRow,
} from './postgres-escalation-rows';
import { PostgresMessages } from './postgres.messages';

/** A call this replica holds, waiting for its row to end. */
class Waiter {
  timer: NodeJS.Timeout | null = null;
  /** The caller stopped waiting (detach, through this replica). */
  detached = false;
  constructor(
    readonly resolve: (response: GatewayResponse) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/**
 * What one replica knows of its tenant's escalations: the calls it holds
 * (each waiting for its row's answer), the pending ones it was told of (its
 * own, and others' through NOTIFY or its polls), and which ended. Every
 * source of news goes through `learn(row)`, in any order and any number of
 * times: each escalation is announced `pending` once, then with exactly one
 * ending (a `pending` first when the first news was already its end), and a
 * held call is answered once, with the answer its row recorded.
 */
export class EscalationMirror {
  private readonly waiters = new Map<string, Waiter>();
  private readonly known = new Map<string, EscalationRecord>();
  private readonly ended = new Set<string>();
  private readonly listeners = new Set<HoldListener>();

  constructor(private readonly keepEnded = 10_000) {}

  /** The calls this replica holds and waits for. */
  get waitingCount(): number {
    return this.waiters.size;
  }

  waitingIds(): string[] {
    return Array.from(this.waiters.keys());
  }

  /** The ids worth polling: the calls held here and the pending escalations known here. */
  trackedIds(): string[] {
    const ids = new Set(this.waiters.keys());
    for (const id of this.known.keys()) ids.add(id);
    return Array.from(ids);
  }

  isWaiting(id: string): boolean {
    return this.waiters.has(id);
  }

  /** True when this replica already knows `id` to be pending (`status` PENDING) or ended (otherwise). */
  knows(id: string, status: string): boolean {
    return status === 'PENDING' ? this.known.has(id) || this.ended.has(id) : this.ended.has(id);
  }

  /** Waits for `id`'s answer; `timer` (the deadline) is cleared when it comes. */
  wait(id: string): Promise<GatewayResponse> {
    return new Promise<GatewayResponse>((resolve, reject) => {
      this.waiters.set(id, new Waiter(resolve, reject));
    });
  }

  setTimer(id: string, timer: NodeJS.Timeout): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) clearTimeout(timer);
    else waiter.timer = timer;
  }

  /** The caller stopped waiting: an approval's answer then goes to no one (the grant serves the retry). */
  detach(id: string): void {
    const waiter = this.waiters.get(id);
    if (waiter !== undefined) waiter.detached = true;
  }

  /** Answers a held call with an error (its row could not be written or ended): never an ALLOW. */
  fail(id: string, error: unknown): void {
    const waiter = this.take(id);
    waiter?.reject(error);
  }

  /** The hold is in the table: announce it. */
  held(record: EscalationRecord): void {
    if (this.known.has(record.id) || this.ended.has(record.id)) return;
    this.known.set(record.id, record);
    this.emit('pending', { ...record });
  }

  /** News of a row, from anywhere (an ending here, a notification, a poll, a resync). */
  learn(row: EscalationRow): void {
    if (row.status === 'PENDING') {
      this.held(pendingRecordOf(row));
      return;
    }
    const status = holdStatusOf(row);
    if (status === undefined || this.ended.has(row.id)) return;
    if (!this.known.has(row.id)) this.emit('pending', pendingRecordOf(row));
    this.known.delete(row.id);
    this.remember(row.id);
    this.answer(row);
    this.emit(status, recordOf(row));
  }

  pending(): EscalationRecord[] {
    return Array.from(this.known.values(), (record) => ({ ...record }));
  }

  onEvent(listener: HoldListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * The held call's answer: the row's outcome. An approval that became a
   * single-use grant (the row says no caller waited: this replica looked
   * dead) while the caller in fact still waits here is refused with an
   * error rather than allowed, so the call runs at most once: its retry uses
   * the grant.
   */
  private answer(row: EscalationRow): void {
    const waiter = this.take(row.id);
    if (waiter === undefined) return;
    try {
      const response = outcomeOf(row);
      if (row.status === 'APPROVED' && !row.caller_waiting && !waiter.detached) {
        throw new EscalationError(PostgresMessages.escalationApprovedAsGrant(row.id), {
          escalationId: row.id,
        });
      }
      waiter.resolve(response);
    } catch (error) {
      waiter.reject(error);
    }
  }

  private take(id: string): Waiter | undefined {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return undefined;
    this.waiters.delete(id);
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    return waiter;
  }

  private remember(id: string): void {
    this.ended.add(id);
    if (this.ended.size > this.keepEnded) {
      this.ended.delete(this.ended.values().next().value as string);
    }
  }

  private emit(type: HoldEventType, record: EscalationRecord): void {
    notifyHoldListeners(this.listeners, { type, record });
  }
}
