import type { GrantInput, GrantRecord } from '../protocol/grant.types';
import { GrantNotFoundError, ProvenanceError } from '../protocol/provenance.errors';
import { GrantMessages } from '../engine/engine.messages';
import { DEFAULT_MAX_GRANTS, standingGrant } from '../engine/grants/grant-book';
import { checkGrantInput } from '../engine/grants/grant-input';
import { GrantMatchers, hashedOnce } from '../engine/grants/grant-match';
import type { GrantedCall, GrantStore } from '../engine/grants/grant-store';
import type { PostgresContext } from './postgres-context';
import {
  GRANT_COLUMNS,
  GRANT_PLACEHOLDERS,
  grantFromRow,
  grantRowValues,
  type GrantRow,
} from './postgres-grant-rows';
import { PostgresMessages } from './postgres.messages';

export interface PostgresGrantStoreOptions {
  /** How many grants the tenant may have active at once. Default 10 000 (as GrantBook). */
  maxGrants?: number;
  /** Candidates read per query while looking for a grant that covers a call. Default 100. */
  pageSize?: number;
  /** The clock grants are stamped and expired by (ms). Default Date.now: the local clock, as GrantBook. */
  now?: () => number;
}

/** The order grants are tried in: single-use first, then oldest first. */
const CANDIDATE_ORDER = `(kind <> 'single-use'), created_at, id`;

/**
 * The grants of one tenant in the `grants` table, shared by every replica:
 * the same checks, records and matching rule as GrantBook (grant-input.ts,
 * grant-match.ts). A use is counted by one conditional UPDATE (still active,
 * not expired, a use left), so the last use of a grant goes to exactly one
 * caller however many replicas race for it; a caller that loses the race
 * tries the next grant that covers its call. Every database error rejects:
 * the engine then answers with an error, never ALLOW.
 */
export class PostgresGrantStore implements GrantStore {
  private readonly matchers = new GrantMatchers();
  private readonly maxGrants: number;
  private readonly pageSize: number;

  constructor(
    private readonly context: PostgresContext,
    private readonly tenantId: string,
    private readonly options: PostgresGrantStoreOptions = {},
  ) {
    this.maxGrants = options.maxGrants ?? DEFAULT_MAX_GRANTS;
    this.pageSize = options.pageSize ?? 100;
  }

  /** The table, for SQL: the context's quoted schema. */
  private get table(): string {
    return `${this.context.schema}.grants`;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A reviewer's standing grant: checked as GrantBook checks it, then written (at most maxGrants active). */
  async grant(input: GrantInput, grantedBy: string): Promise<GrantRecord> {
    const checked = checkGrantInput(input, grantedBy);
    const now = this.now();
    const record = standingGrant(this.tenantId, checked, grantedBy, now);
    const values = grantRowValues(record);
    const written = await this.query(
      `INSERT INTO ${this.table} (${GRANT_COLUMNS}) SELECT ${GRANT_PLACEHOLDERS}
       WHERE (SELECT count(*) FROM ${this.table} WHERE tenant_id = $3 AND status = 'ACTIVE'
              AND expires_at > $${values.length + 1}) < $${values.length + 2}
       RETURNING id`,
      [...values, new Date(now).toISOString(), this.maxGrants],
    );
    if (written.length === 0) {
      throw new ProvenanceError(GrantMessages.tooMany(this.maxGrants));
    }
    return record;
  }

  /**
   * The first grant in force that covers the call (single-use first, then
   * oldest first), with the use counted; null when none does.
   */
  async use(call: GrantedCall): Promise<GrantRecord | null> {
    const asked = hashedOnce(call);
    const { request } = call;
    const nowIso = new Date(this.now()).toISOString();
    let after: GrantRow | null = null;
    for (;;) {
      const page = await this.candidates(request, nowIso, after);
      for (const row of page) {
        const record = grantFromRow(row);
        if (!this.matchers.covers(record, asked)) continue;
        const used = await this.countUse(record.id, nowIso);
        if (used !== null) return used;
        // Lost the race for its last use (or it just ended): the next one may still cover the call.
      }
      if (page.length < this.pageSize) return null;
      after = page[page.length - 1];
    }
  }

  /** Ends an active grant; `GrantNotFoundError` when it is unknown, revoked, used up or expired. */
  async revoke(grantId: string): Promise<GrantRecord> {
    const rows = await this.query(
      `UPDATE ${this.table} SET status = 'REVOKED'
       WHERE id = $1 AND tenant_id = $2 AND status = 'ACTIVE' AND expires_at > $3
       RETURNING ${GRANT_COLUMNS}`,
      [grantId, this.tenantId, new Date(this.now()).toISOString()],
    );
    if (rows.length === 0) throw new GrantNotFoundError(grantId, GrantMessages.notFound(grantId));
    return grantFromRow(rows[0]);
  }

  /** The active grants, oldest first; expired ones are marked EXPIRED on the way. */
  async list(): Promise<GrantRecord[]> {
    const nowIso = new Date(this.now()).toISOString();
    await this.query(
      `UPDATE ${this.table} SET status = 'EXPIRED'
       WHERE tenant_id = $1 AND status = 'ACTIVE' AND expires_at <= $2`,
      [this.tenantId, nowIso],
    );
    const rows = await this.query(
      `SELECT ${GRANT_COLUMNS} FROM ${this.table}
       WHERE tenant_id = $1 AND status = 'ACTIVE' AND expires_at > $2
       ORDER BY created_at, id`,
      [this.tenantId, nowIso],
    );
    return rows.map(grantFromRow);
  }

  /**
   * One page of the grants in force that may cover the call, in the order
   * they are tried: agent and session filtered here, the action glob and
   * the conditions by grantCovers.
   */
  private candidates(
    request: GrantedCall['request'],
    nowIso: string,
    after: GrantRow | null,
  ): Promise<GrantRow[]> {
    const values: unknown[] = [
      this.tenantId,
      nowIso,
      request.agentId,
      request.sessionId,
      request.action,
      this.pageSize,
    ];
    let keyset = '';
    if (after !== null) {
      values.push(after.kind !== 'single-use', after.created_at, after.id);
      keyset = `AND (${CANDIDATE_ORDER}) > ($7::boolean, $8::timestamptz, $9::text)`;
    }
    return this.query(
      `SELECT ${GRANT_COLUMNS} FROM ${this.table}
       WHERE tenant_id = $1 AND status = 'ACTIVE' AND expires_at > $2 AND uses < max_uses
         AND (agent_id IS NULL OR agent_id = $3) AND (session_id IS NULL OR session_id = $4)
         AND (kind = 'standing' OR action = $5) ${keyset}
       ORDER BY ${CANDIDATE_ORDER} LIMIT $6`,
      values,
    );
  }

  /** Counts one use if the grant is still in force; the record after it, or null. */
  private async countUse(grantId: string, nowIso: string): Promise<GrantRecord | null> {
    const rows = await this.query(
      `UPDATE ${this.table}
       SET uses = uses + 1,
           status = CASE WHEN uses + 1 >= max_uses THEN 'USED_UP' ELSE status END
       WHERE id = $1 AND tenant_id = $2 AND status = 'ACTIVE' AND uses < max_uses
         AND expires_at > $3
       RETURNING ${GRANT_COLUMNS}`,
      [grantId, this.tenantId, nowIso],
    );
    return rows.length === 0 ? null : grantFromRow(rows[0]);
  }

  /** One statement; a database error becomes a rejection that says the grants could not be read or written. */
  private async query(sql: string, values: unknown[]): Promise<GrantRow[]> {
    await this.context.ready();
    try {
      return (await this.context.pool.query<GrantRow>(sql, values)).rows;
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new ProvenanceError(PostgresMessages.grantsUnavailable(why), { cause: error });
    }
  }
}
