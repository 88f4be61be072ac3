import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { newUuid } from '../protocol/uuid';
import type { PostgresContext } from './postgres-context';
import { PostgresMessages } from './postgres.messages';

/** How often a replica beats when nothing else is said, in ms. */
export const DEFAULT_HEARTBEAT_MS = 1000;
/** How long without a beat before a replica counts as dead, in ms. */
export const DEFAULT_STALE_AFTER_MS = 5000;

export interface PostgresReplicaOptions {
  /** Default: a fresh uuid. */
  id?: string;
  /** Default 1000. */
  heartbeatMs?: number;
  /** Default 5000; more than `heartbeatMs`, or a live replica would look dead between beats. */
  staleAfterMs?: number;
  /** Shown in the `replicas` table (host, pid): never a secret. */
  description?: string;
}

/**
 * The SQL condition "the replica named by `holderColumn` is alive": it has a
 * row in `replicas` whose heartbeat is younger than `staleAfterMs`, by the
 * database's clock (so the replicas' clocks never matter). A holder that is
 * NULL, removed its row (closed) or stopped beating (died) is not alive.
 * `schema` is the quoted schema (PostgresContext.schema) and `holderColumn`
 * a column reference of the caller's statement (e.g. `e.holder`): both are
 * spliced into SQL, so they must come from code, never from input.
 */
export function replicaAliveSql(
  schema: string,
  holderColumn: string,
  staleAfterMs: number,
): string {
  checkMs('staleAfterMs', staleAfterMs);
  return (
    `EXISTS (SELECT 1 FROM ${schema}.replicas r WHERE r.id = ${holderColumn} ` +
    `AND r.heartbeat_at > now() - interval '1 millisecond' * ${staleAfterMs})`
  );
}

/**
 * One running replica (one engine set, one process): registered in
 * `replicas` on `start()`, beating every `heartbeatMs`, removed on `close()`.
 * Stores that hold something for a caller (a held call, an idempotency claim)
 * name the replica as its holder; others treat the holder as gone once its
 * heartbeat is older than `staleAfterMs` (replicaAliveSql). A heartbeat that
 * fails (the database is away) is retried at the next beat, silently: the
 * stores' own queries report the outage.
 */
export class PostgresReplica {
  readonly id: string;
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;
  private readonly description: string;
  private timer: NodeJS.Timeout | null = null;
  private starting: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private beating: Promise<void> | null = null;

  constructor(
    private readonly context: PostgresContext,
    options: PostgresReplicaOptions = {},
  ) {
    this.id = options.id ?? newUuid();
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    checkMs('heartbeatMs', this.heartbeatMs);
    checkMs('staleAfterMs', this.staleAfterMs);
    if (this.staleAfterMs <= this.heartbeatMs) {
      throw new ProvenanceConfigError(
        'postgres.replica.staleAfterMs',
        PostgresMessages.staleNotAfterHeartbeat(this.staleAfterMs, this.heartbeatMs),
      );
    }
    this.description = options.description ?? `pid ${process.pid}`;
  }

  /** The SQL condition "the replica in `holderColumn` is alive", with this replica's staleAfterMs. */
  aliveSql(holderColumn: string): string {
    return replicaAliveSql(this.context.schema, holderColumn, this.staleAfterMs);
  }

  /** Registers the replica and starts the heartbeat. Once; retried after a failure. Rejects after close(). */
  start(): Promise<void> {
    if (this.closing !== null) {
      return Promise.reject(new Error(PostgresMessages.replicaClosed(this.id)));
    }
    this.starting ??= this.beat(true).then(
      () => {
        if (this.closing !== null) return;
        this.timer = setInterval(
          () => void this.beat(false).catch(() => undefined),
          this.heartbeatMs,
        );
        this.timer.unref();
      },
      (error: unknown) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  /** Stops the heartbeat and removes the row: what this replica held is at once seen as abandoned. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopBeating();
      await this.starting?.catch(() => undefined);
      await this.beating?.catch(() => undefined);
      if (this.starting === null) return;
      await this.context.pool
        .query(`DELETE FROM ${this.context.schema}.replicas WHERE id = $1`, [this.id])
        .catch(() => undefined);
    })();
    return this.closing;
  }

  /**
   * Stops beating without removing the row, as a process that died would:
   * for tests of what the other replicas do once this one's heartbeat is stale.
   */
  stopBeating(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private beat(first: boolean): Promise<void> {
    if (this.beating !== null && !first) return this.beating;
    const beat = (async () => {
      await this.context.ready();
      // On the side pool: a heartbeat queued behind a burst of work would make this replica look dead.
      await this.context.sidePool().query(
        `INSERT INTO ${this.context.schema}.replicas (id, description) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
        [this.id, this.description],
      );
    })();
    this.beating = beat;
    const done = () => {
      if (this.beating === beat) this.beating = null;
    };
    beat.then(done, done);
    return beat;
  }
}

function checkMs(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new ProvenanceConfigError(
      `postgres.replica.${name}`,
      PostgresMessages.badReplicaMs(name, String(value)),
    );
  }
}
