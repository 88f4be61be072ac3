import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import { ProvenanceError } from '../protocol/provenance.errors';
import { fingerprintOf } from '../engine/idempotency-cache';
import type { IdempotencyLookup, IdempotencyStore } from '../engine/idempotency-store';
import type { PostgresContext } from './postgres-context';
import { responseColumn, responseFromColumn } from './postgres-idempotency-response';
import { DEFAULT_STALE_AFTER_MS, replicaAliveSql } from './postgres-replica';
import { PostgresMessages } from './postgres.messages';

export interface PostgresIdempotencyStoreOptions {
  /** This replica's id (PostgresReplica.id): the holder of the keys it claims. */
  holderId: string;
  /**
   * Resolves once the holder is registered in `replicas` (PostgresReplica.start):
   * awaited before a key is claimed, since a claim whose holder has no row
   * looks abandoned and another replica would decide the same key again.
   */
  holderReady?: () => Promise<void>;
  /** A holder whose heartbeat in `replicas` is older than this is dead, ms. Default 5000 (the replica's). */
  staleAfterMs?: number;
  /** Keys older than this are forgotten (claimed again, then deleted), ms. Default 24 h. */
  retentionMs?: number;
  /** The longest pause between two looks at a key another replica is deciding, ms. Default 250. */
  pollIntervalMs?: number;
  /** How often a lookup also deletes old keys, ms. Default 60 000. */
  sweepIntervalMs?: number;
  /** The most old keys one sweep deletes. Default 1000. */
  sweepBatch?: number;
}

interface KeyRow {
  fingerprint: string;
  response: unknown;
  holder: string | null;
  holder_alive: boolean;
  /** Abandoned or too old: may be claimed again. */
  free: boolean;
}

interface Claim {
  fingerprint: string;
  response: Promise<GatewayResponse>;
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * Idempotency keys in the `idempotency_keys` table, shared by every replica
 * (per tenant). A lookup claims a key it finds free (INSERT ... ON CONFLICT)
 * with this replica as holder: `miss`. A key already claimed with the same
 * call is a `replay` of its stored answer, or, while another replica still
 * decides it, of the answer that replica writes (looked at again until it is
 * there). Another call with the key is a `conflict`. A claim whose answer
 * failed is deleted; one whose holder died (its heartbeat in `replicas` is
 * stale, or its row is gone) or that is older than the retention is free to
 * claim again. A database error rejects the lookup: the call is not decided
 * rather than decided twice.
 */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly enabled = true;
  private readonly holderId: string;
  private readonly holderReady: () => Promise<void>;
  private readonly staleAfterMs: number;
  private readonly retentionMs: number;
  private readonly pollIntervalMs: number;
  private readonly sweepIntervalMs: number;
  private readonly sweepBatch: number;
  /** This replica's claims whose answer is not written yet. */
  private readonly claims = new Map<string, Claim>();
  /** Answers and releases being written, and sweeps. */
  private readonly writes = new Set<Promise<void>>();
  private stop = new AbortController();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly context: PostgresContext,
    private readonly tenantId: string,
    options: PostgresIdempotencyStoreOptions,
  ) {
    this.holderId = options.holderId;
    this.holderReady = options.holderReady ?? (() => Promise.resolve());
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    this.retentionMs = options.retentionMs ?? DAY_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
    this.sweepBatch = options.sweepBatch ?? 1000;
  }

  private get table(): string {
    return `${this.context.schema}.idempotency_keys`;
  }

  async lookup(
    key: string,
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
  ): Promise<IdempotencyLookup> {
    const fingerprint = fingerprintOf(request, parameters);
    await this.context.ready();
    await this.holderReady();
    this.sweepNow();
    for (let attempt = 0; ; attempt++) {
      if (await this.claim(key, fingerprint)) return { kind: 'miss', fingerprint };
      const row = await this.read(key);
      if (row?.free === true && (await this.takeOver(key, fingerprint))) {
        return { kind: 'miss', fingerprint };
      }
      if (row === null || row.free) {
        // Released, or taken by another replica, between two statements: look again (a few times at most).
        if (attempt < 3) continue;
        throw new ProvenanceError(PostgresMessages.idempotencyUnavailable('the key kept changing'));
      }
      if (row.fingerprint !== fingerprint) return { kind: 'conflict' };
      const stored = this.answerOf(row);
      if (stored !== undefined) return { kind: 'replay', response: stored };
      const own = this.claims.get(key);
      if (own !== undefined && row.holder === this.holderId && own.fingerprint === fingerprint) {
        return { kind: 'replay', response: own.response };
      }
      const waited = this.awaitAnswer(key, fingerprint);
      waited.catch(() => undefined);
      return { kind: 'replay', response: waited };
    }
  }

  /** Writes the answer of a key this replica claimed once it comes; deletes the claim if it fails. */
  remember(key: string, fingerprint: string, response: Promise<GatewayResponse>): void {
    const claim: Claim = { fingerprint, response };
    this.claims.set(key, claim);
    const { signal } = this.stop;
    const settled = response.then(
      (answer) => this.persist(signal, () => this.writeAnswer(key, fingerprint, answer)),
      () => this.persist(signal, () => this.release(key, fingerprint)),
    );
    this.track(
      settled.finally(() => {
        if (this.claims.get(key) === claim) this.claims.delete(key);
      }),
    );
  }

  /**
   * Stops waiting for other replicas' answers (those replays reject) and
   * retrying this replica's writes; the keys stay in the table (a claim left
   * unanswered is free again once this replica's heartbeat stops).
   */
  clear(): void {
    this.stop.abort();
    this.stop = new AbortController();
    this.claims.clear();
    this.writes.clear();
  }

  /** Resolves when the answers, releases and sweeps under way are written (or given up by clear()). */
  async idle(): Promise<void> {
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
  }

  /** Claims a key nobody holds: one statement, the hot path (nothing locked when the key exists). */
  private async claim(key: string, fingerprint: string): Promise<boolean> {
    const rows = await this.query(
      `INSERT INTO ${this.table} (tenant_id, key, fingerprint, holder, created_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (tenant_id, key) DO NOTHING
       RETURNING 1 AS claimed`,
      [this.tenantId, key, fingerprint, this.holderId],
    );
    return rows.length === 1;
  }

  /**
   * Claims a key that is free again (see freeSql) for this call; false when
   * another replica took it first (the condition is checked again on the
   * locked row).
   */
  private async takeOver(key: string, fingerprint: string): Promise<boolean> {
    const rows = await this.query(
      `UPDATE ${this.table} k
       SET fingerprint = $3, holder = $4, created_at = now(), response = NULL
       WHERE k.tenant_id = $1 AND k.key = $2 AND ${this.freeSql('$5')}
       RETURNING 1 AS claimed`,
      [this.tenantId, key, fingerprint, this.holderId, this.retentionMs],
    );
    return rows.length === 1;
  }

  /**
   * A key is free again when its claim was abandoned (no answer, holder
   * dead) or it is older than the retention (bound as `retention`, e.g. `$5`).
   */
  private freeSql(retention: string): string {
    return (
      `((k.response IS NULL AND NOT ${this.holderAlive()})` +
      ` OR k.created_at <= now() - interval '1 millisecond' * ${retention})`
    );
  }

  private async read(key: string): Promise<KeyRow | null> {
    const rows = await this.query<KeyRow>(
      `SELECT k.fingerprint, k.response, k.holder, ${this.holderAlive()} AS holder_alive,
              ${this.freeSql('$3')} AS free
       FROM ${this.table} k WHERE k.tenant_id = $1 AND k.key = $2`,
      [this.tenantId, key, this.retentionMs],
    );
    return rows[0] ?? null;
  }

  /** The stored answer (undefined while none is); a column that holds no answer rejects. */
  private answerOf(row: KeyRow): Promise<GatewayResponse> | undefined {
    if (row.response === null || row.response === undefined) return undefined;
    const answer = responseFromColumn(row.response);
    if (answer === null) {
      const refused = Promise.reject(new ProvenanceError(PostgresMessages.idempotencyUnreadable()));
      refused.catch(() => undefined);
      return refused;
    }
    return Promise.resolve(answer);
  }

  /**
   * The answer another replica is deciding: looked at again (every 10 ms,
   * doubling up to pollIntervalMs) until it is written. Rejects when the
   * claim is released (that call failed) or taken by another call, when its
   * holder dies, on a database error, and on clear().
   */
  private async awaitAnswer(key: string, fingerprint: string): Promise<GatewayResponse> {
    const { signal } = this.stop;
    let pause = 10;
    for (;;) {
      try {
        await sleep(pause, undefined, { signal });
      } catch {
        throw new ProvenanceError(PostgresMessages.idempotencyClosed());
      }
      pause = Math.min(pause * 2, this.pollIntervalMs);
      const row = await this.read(key);
      if (row === null || row.fingerprint !== fingerprint) {
        throw new ProvenanceError(PostgresMessages.idempotencyReleased());
      }
      const stored = this.answerOf(row);
      if (stored !== undefined) return stored;
      if (!row.holder_alive) throw new ProvenanceError(PostgresMessages.idempotencyAbandoned());
    }
  }

  private async writeAnswer(key: string, fingerprint: string, answer: GatewayResponse) {
    await this.query(
      `UPDATE ${this.table} SET response = $5::jsonb
       WHERE tenant_id = $1 AND key = $2 AND holder = $3 AND fingerprint = $4`,
      [this.tenantId, key, this.holderId, fingerprint, responseColumn(answer)],
    );
  }

  private async release(key: string, fingerprint: string) {
    await this.query(
      `DELETE FROM ${this.table}
       WHERE tenant_id = $1 AND key = $2 AND holder = $3 AND fingerprint = $4 AND response IS NULL`,
      [this.tenantId, key, this.holderId, fingerprint],
    );
  }

  /**
   * Runs a write until it succeeds (the database may be away for a while:
   * replays on other replicas wait for it), pausing 50 ms doubling up to 2 s
   * between tries; given up on clear() (an answer that comes after it is not written).
   */
  private async persist(signal: AbortSignal, write: () => Promise<void>): Promise<void> {
    for (let pause = 50; !signal.aborted; pause = Math.min(pause * 2, 2000)) {
      try {
        await write();
        return;
      } catch {
        await sleep(pause, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** At most once per sweepIntervalMs: deletes up to sweepBatch of this tenant's keys older than the retention. */
  private sweepNow(): void {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    const sweep = this.query(
      `DELETE FROM ${this.table} WHERE tenant_id = $1 AND key IN (
         SELECT key FROM ${this.table}
         WHERE tenant_id = $1 AND created_at <= now() - interval '1 millisecond' * $2
         LIMIT $3)`,
      [this.tenantId, this.retentionMs, this.sweepBatch],
    ).then(
      () => undefined,
      () => undefined, // Housekeeping: the next sweep tries again.
    );
    this.track(sweep);
  }

  private track(work: Promise<void>): void {
    this.writes.add(work);
    void work.finally(() => this.writes.delete(work));
  }

  private holderAlive(): string {
    return replicaAliveSql(this.context.schema, 'k.holder', this.staleAfterMs);
  }

  private async query<Row = Record<string, unknown>>(
    sql: string,
    values: unknown[],
  ): Promise<Row[]> {
    await this.context.ready();
    try {
      return (await this.context.pool.query(sql, values)).rows as Row[];
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ProvenanceError(PostgresMessages.idempotencyUnavailable(why), { cause: error });
    }
  }
}
