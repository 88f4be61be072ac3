import type { PostgresContext } from './postgres-context';
import { PostgresEscalationListener } from './postgres-escalation-listener';
import type { EscalationMirror } from './postgres-escalation-mirror';
import { parseNotifyPayload, type EscalationRow } from './postgres-escalation-rows';

/** How many expired holds one sweep ends at most (the next sweep takes the rest). */
const SWEEP_BATCH = 100;

export interface EscalationWatchOptions {
  context: PostgresContext;
  tenantId: string;
  channel: string;
  /** The LISTEN connection's application_name. */
  applicationName: string;
  pollIntervalMs: number;
  sweepIntervalMs: number;
  listenRetryMs: number;
  mirror: EscalationMirror;
  /** The tenant's rows that match `where` (`$1` is the tenant, `values` follow). */
  rows(where: string, values: unknown[]): Promise<EscalationRow[]>;
  /** Ends a hold as expired through the ending transaction (and tells the mirror). */
  expire(id: string): Promise<unknown>;
}

/**
 * How a replica learns what the others did, and ends what no one else will:
 * the tenant's notifications (each names a row, read in batches), a poll
 * every `pollIntervalMs` of the rows it holds or knows pending (a missed
 * notification only delays), a resync of every pending row whenever the
 * listener (re)connects, the retry of held calls whose expiry could not be
 * recorded yet (`due`), and a sweep every `sweepIntervalMs` of the tenant's
 * expired holds of any holder (a dead replica's). Everything it learns goes
 * to the mirror. A failure (the database is away) waits for the next tick.
 */
export class EscalationWatch {
  private readonly listener: PostgresEscalationListener;
  /** Held calls past their deadline whose expiry could not be recorded yet. */
  private readonly due = new Set<string>();
  private readonly toFetch = new Set<string>();
  private fetchScheduled = false;
  private needsResync = false;
  private timers: NodeJS.Timeout[] = [];
  private polling = false;
  private sweeping = false;
  private closed = false;

  constructor(private readonly options: EscalationWatchOptions) {
    this.listener = new PostgresEscalationListener(options.context, {
      channel: options.channel,
      applicationName: options.applicationName,
      retryMs: options.listenRetryMs,
      onNotify: (payload) => this.notified(payload),
      onListening: () => void this.resync(),
    });
  }

  get listening(): boolean {
    return this.listener.listening;
  }

  whenListening(): Promise<void> {
    return this.listener.whenListening();
  }

  /** Starts the poll and the sweeper, and listens (resolves once listening, or the first attempt failed). */
  async start(): Promise<void> {
    if (this.closed || this.timers.length > 0) return;
    this.every(this.options.pollIntervalMs, () => this.pollOnce());
    this.every(this.options.sweepIntervalMs, () => this.sweepOnce());
    await this.listener.start();
  }

  /** Stops the poll and the sweeper (the listener too, with `listener`). */
  stopTimers(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  async close(): Promise<void> {
    this.stopTimers();
    await this.listener.close();
  }

  /** A held call whose deadline passed: retried by every poll until its expiry is recorded. */
  markDue(id: string): void {
    this.due.add(id);
  }

  clearDue(id: string): void {
    this.due.delete(id);
  }

  /** Reads these rows and tells the mirror what they say. */
  async fetch(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.options.rows('id = ANY($2::text[])', [ids]);
    for (const row of rows) this.options.mirror.learn(row);
  }

  private notified(payload: string | undefined): void {
    const change = parseNotifyPayload(payload);
    if (change === null || this.options.mirror.knows(change.id, change.status)) return;
    this.toFetch.add(change.id);
    if (this.fetchScheduled) return;
    this.fetchScheduled = true;
    // The notifications that arrive together are read in one query.
    setImmediate(() => {
      this.fetchScheduled = false;
      const ids = Array.from(this.toFetch);
      this.toFetch.clear();
      this.fetch(ids).catch(() => (this.needsResync = true));
    });
  }

  /** After a (re)connect of the listener: every pending row, then the known rows' endings. */
  private async resync(): Promise<void> {
    try {
      const rows = await this.options.rows(`status = 'PENDING' ORDER BY created_at, id`, []);
      for (const row of rows) this.options.mirror.learn(row);
      this.needsResync = false;
    } catch {
      this.needsResync = true;
    }
    await this.pollOnce();
  }

  /** The rows held or known here that ended (a missed notification), and the due expiries. */
  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    const { mirror } = this.options;
    try {
      const ids = mirror.trackedIds();
      if (ids.length > 0) {
        const rows = await this.options.rows(`id = ANY($2::text[]) AND status <> 'PENDING'`, [ids]);
        for (const row of rows) mirror.learn(row);
      }
      for (const id of Array.from(this.due)) {
        if (mirror.isWaiting(id)) await this.options.expire(id);
        else this.due.delete(id);
      }
      if (this.needsResync) await this.resync();
    } catch {
      // The database is away: the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /** Ends the tenant's expired holds that this replica does not time out itself (a dead holder's). */
  private async sweepOnce(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    const { context } = this.options;
    try {
      const expired = await context.pool.query<{ id: string }>(
        `SELECT id FROM ${context.schema}.escalations
          WHERE tenant_id = $1 AND status = 'PENDING' AND expires_at <= now()
          ORDER BY expires_at LIMIT ${SWEEP_BATCH}`,
        [this.options.tenantId],
      );
      for (const { id } of expired.rows) {
        if (this.closed) break;
        if (!this.options.mirror.isWaiting(id)) await this.options.expire(id);
      }
    } catch {
      // The database is away: the next sweep tries again.
    } finally {
      this.sweeping = false;
    }
  }

  private every(ms: number, work: () => Promise<void>): void {
    const timer = setInterval(() => void work(), ms);
    timer.unref();
    this.timers.push(timer);
  }
}
