import { sha256Hex } from '../protocol/canonical-json';
import { EscalationMessages } from '../engine/engine.messages';
import {
  pendingRecordOf,
  validateTimeout,
  type HoldDecisionInput,
  type HoldListener,
  type HoldStatus,
} from '../engine/escalation/escalation-holds';
import type { EscalationStore, HeldCall } from '../engine/escalation/escalation-store';
import type { EscalationRecord, GatewayResponse, ReviewVerdict } from '../protocol/gateway.types';
import {
  EscalationError,
  EscalationLimitError,
  EscalationNotFoundError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../protocol/provenance.errors';
import type { PostgresContext } from './postgres-context';
import {
  endEscalation,
  type EndingScope,
  type EscalationEnding,
} from './postgres-escalation-ending';
import { EscalationWatch } from './postgres-escalation-watch';
import { EscalationMirror } from './postgres-escalation-mirror';
import {
  ESCALATION_COLUMNS,
  holdSql,
  holdValues,
  recordOf,
  type EscalationRow,
} from './postgres-escalation-rows';
import type { PostgresReplica } from './postgres-replica';
import { PostgresMessages } from './postgres.messages';

export interface PostgresEscalationStoreOptions {
  tenantId: string;
  /** This process's replica: the holder of its calls, and the judge of others' heartbeats. */
  replica: PostgresReplica;
  /** How many calls this replica may hold at once. Default 10 000. */
  maxPending?: number;
  /** How often the rows of the calls held here are read (a missed notification), in ms. Default 1000. */
  pollIntervalMs?: number;
  /** How often expired holds of any replica (a dead one's) are ended here, in ms. Default 1000. */
  sweepIntervalMs?: number;
  /** How long after a lost LISTEN connection to connect again, in ms. Default 1000. */
  listenRetryMs?: number;
}

/**
 * Held calls in PostgreSQL, shared by every replica of a tenant. A hold is a
 * row of `escalations` (held by this replica, its caller waiting here);
 * any replica may list, approve, reject or (its sweeper) expire it, through
 * the one ending transaction (endEscalation), so it ends exactly once
 * whichever replicas race. The holder answers its caller with the answer
 * the row recorded, as soon as it learns of the ending: its own, a
 * notification on the tenant's channel, or its poll of its waiting rows
 * (a missed notification only delays). A database error is a rejection,
 * never an ALLOW; a deadline whose expiry cannot be recorded is retried.
 */
export class PostgresEscalationStore implements EscalationStore {
  readonly maxPending: number;
  readonly tenantId: string;
  /** The tenant's notification channel. */
  readonly channel: string;
  private readonly replica: PostgresReplica;
  private readonly mirror = new EscalationMirror();
  private readonly watch: EscalationWatch;
  private readonly scope: EndingScope;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly context: PostgresContext,
    options: PostgresEscalationStoreOptions,
  ) {
    this.tenantId = options.tenantId;
    this.replica = options.replica;
    this.maxPending = Math.max(1, options.maxPending ?? 10_000);
    this.channel = `provenance_escalations_${sha256Hex(`${context.schemaName}\n${this.tenantId}`).slice(0, 24)}`;
    this.scope = { context, tenantId: this.tenantId, replica: this.replica, channel: this.channel };
    this.watch = new EscalationWatch({
      context,
      tenantId: this.tenantId,
      channel: this.channel,
      applicationName: `provenance-escalations ${this.replica.id}`,
      pollIntervalMs: checkedMs('pollIntervalMs', options.pollIntervalMs ?? 1000),
      sweepIntervalMs: checkedMs('sweepIntervalMs', options.sweepIntervalMs ?? 1000),
      listenRetryMs: checkedMs('listenRetryMs', options.listenRetryMs ?? 1000),
      mirror: this.mirror,
      rows: (where, values) => this.rows(where, values),
      expire: (id) => this.end(id, 'expired', null, null),
    });
  }

  /**
   * Registers the replica, starts the poll and the sweeper, and listens
   * (resolves once listening, or once the first attempt failed: it is
   * retried). Called by the first hold; call it to learn of other
   * replicas' holds before holding any.
   */
  start(): Promise<void> {
    if (this.closing !== null) return Promise.reject(this.closedError());
    this.starting ??= (async () => {
      await this.context.ready();
      await this.replica.start();
      if (this.closing !== null) return;
      await this.watch.start();
    })().catch((error: unknown) => {
      this.starting = null;
      throw unavailable(error);
    });
    return this.starting;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.watch.listening;
  }

  /** Resolves the next time the LISTEN connection is up (at once when it is). */
  whenListening(): Promise<void> {
    return this.watch.whenListening();
  }

  assertRoom(action: string): void {
    if (this.mirror.waitingCount >= this.maxPending) {
      throw new EscalationLimitError(
        action,
        this.maxPending,
        EscalationMessages.tooManyPending(this.maxPending),
      );
    }
  }

  async hold(call: HeldCall, onHeld: () => void): Promise<GatewayResponse> {
    const { ticket } = call;
    const id = ticket.escalationId;
    if (this.closing !== null) throw this.closedError();
    validateTimeout(call.timeoutMs);
    this.assertRoom(ticket.action);
    if (this.mirror.isWaiting(id)) {
      throw new EscalationError(EscalationMessages.duplicateId(id), {
        action: ticket.action,
        escalationId: id,
      });
    }
    await this.start();
    const createdAt = ticket.createdAt ?? new Date().toISOString();
    const expiresAt = new Date(Date.parse(createdAt) + call.timeoutMs).toISOString();
    const answer = this.mirror.wait(id);
    try {
      await this.context.pool.query(
        holdSql(this.context.schema),
        holdValues(call, this.tenantId, this.replica.id, createdAt, expiresAt, this.channel),
      );
    } catch (error) {
      answer.catch(() => undefined);
      this.mirror.fail(id, error);
      throw unavailable(error);
    }
    // The store's tenant, whatever the ticket says: the row was written for it.
    this.mirror.held({ ...pendingRecordOf(ticket, createdAt), tenantId: this.tenantId });
    const timer = setTimeout(this.expire, call.timeoutMs, id);
    timer.unref();
    this.mirror.setTimer(id, timer);
    onHeld();
    return answer;
  }

  async decide(id: string, verdict: ReviewVerdict, decision: HoldDecisionInput): Promise<void> {
    const status = verdict === 'APPROVE' ? 'approved' : 'rejected';
    const ended = await this.end(id, status, decision.approverId, decision.reason ?? null);
    if (ended === null) throw new EscalationNotFoundError(id);
  }

  async withdraw(id: string): Promise<boolean> {
    return (await this.end(id, 'withdrawn', null, null)) !== null;
  }

  async detach(id: string): Promise<boolean> {
    await this.start();
    const result = await this.context.pool
      .query(
        `UPDATE ${this.context.schema}.escalations SET caller_waiting = false
          WHERE id = $1 AND tenant_id = $2 AND status = 'PENDING'`,
        [id, this.tenantId],
      )
      .catch((error: unknown) => {
        throw unavailable(error);
      });
    if (result.rowCount === 0) return false;
    this.mirror.detach(id);
    return true;
  }

  pending(): EscalationRecord[] {
    return this.mirror.pending();
  }

  async listPending(): Promise<EscalationRecord[]> {
    return (await this.rows(`status = 'PENDING' ORDER BY created_at, id`, [])).map(recordOf);
  }

  async get(id: string): Promise<EscalationRecord | undefined> {
    const [row] = await this.rows('id = $2', [id]);
    return row === undefined ? undefined : recordOf(row);
  }

  /** Subscribes to what this replica learns; starts listening (in the background) if it was not. */
  onEvent(listener: HoldListener): () => void {
    const off = this.mirror.onEvent(listener);
    if (this.closing === null) this.start().catch(() => undefined);
    return off;
  }

  /**
   * Ends the calls held here as expired ('gateway closed'), recorded, then
   * stops the poll, the sweeper and the listener. A hold whose end cannot be
   * recorded is answered with the error (never ALLOW); its row is left for
   * the other replicas' sweepers. The replica is not closed: it may be
   * shared. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.watch.stopTimers();
      await this.starting?.catch(() => undefined);
      const ids = this.mirror.waitingIds();
      await Promise.all(ids.map((id) => this.endOnClose(id)));
      await this.watch.close();
    })();
    return this.closing;
  }

  /** Runs the ending and tells this replica's mirror; null when there was nothing to end. */
  private async end(
    id: string,
    status: HoldStatus,
    approverId: string | null,
    reason: string | null,
  ): Promise<EscalationEnding | null> {
    await this.start().catch((error: unknown) => {
      if (this.closing === null) throw error;
    });
    const waitingHere = this.mirror.isWaiting(id);
    let ended: EscalationEnding | null;
    try {
      ended = await endEscalation(this.scope, {
        escalationId: id,
        status,
        approverId,
        reason,
        waitingHere,
      });
    } catch (error) {
      throw unavailable(error);
    }
    if (ended !== null) {
      this.watch.clearDue(id);
      this.mirror.learn(ended.row);
    } else if (this.mirror.isWaiting(id)) {
      // Someone else ended it first: its answer is in the row.
      await this.watch.fetch([id]).catch(() => undefined);
    }
    return ended;
  }

  /** A held call's deadline: its expiry is recorded here, or retried by the poll until it is. */
  private readonly expire = (id: string): void => {
    this.watch.markDue(id);
    void this.end(id, 'expired', null, null).catch(() => undefined);
  };

  private async endOnClose(id: string): Promise<void> {
    try {
      await this.end(id, 'expired', null, EscalationMessages.closedReason());
    } catch (error) {
      this.mirror.fail(id, error);
      return;
    }
    this.watch.clearDue(id);
    this.mirror.fail(id, this.closedError());
  }

  private async rows(where: string, values: unknown[]): Promise<EscalationRow[]> {
    await this.start().catch((error: unknown) => {
      if (this.closing === null) throw error;
    });
    try {
      const result = await this.context.pool.query<EscalationRow>(
        `SELECT ${ESCALATION_COLUMNS} FROM ${this.context.schema}.escalations
          WHERE tenant_id = $1 AND ${where}`,
        [this.tenantId, ...values],
      );
      return result.rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  private closedError(): ProvenanceError {
    return new ProvenanceError(PostgresMessages.escalationsClosed(this.tenantId));
  }
}

/** A database error as the library's (no connection string in it); the library's own pass through. */
function unavailable(error: unknown): unknown {
  if (error instanceof ProvenanceError) return error;
  const why = error instanceof Error ? error.message : String(error);
  return new ProvenanceError(PostgresMessages.escalationsUnavailable(why), { cause: error });
}

function checkedMs(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new ProvenanceConfigError(
      `postgres.escalations.${name}`,
      PostgresMessages.badEscalationMs(name, String(value)),
    );
  }
  return value;
}
