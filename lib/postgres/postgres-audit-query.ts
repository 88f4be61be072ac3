import type { AuditQuery } from '../engine/audit/audit-query';

/*
 * AuditQuery (lib/engine/audit/audit-query.ts) as SQL over audit_events, with
 * the in-memory log's semantics: each filter an exact match (a value that is
 * not a string matches nothing, null only a null column), `since` inclusive,
 * `until` exclusive, `limit` the most recent matches (oldest first) or, with
 * `offset`, the first matches from that position on. Values are bind
 * parameters; only the schema (validated, quoted) is spliced in.
 */

/** The filter columns, by query key. */
const FILTERS: ReadonlyArray<
  [keyof Omit<AuditQuery, 'limit' | 'offset' | 'since' | 'until'>, string]
> = [
  ['sessionId', 'session_id'],
  ['agentId', 'agent_id'],
  ['action', 'action'],
  ['decision', 'decision'],
  ['kind', 'kind'],
  ['escalationId', 'escalation_id'],
];

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: where toISOString has 4-digit years. */
const FIRST_ISO_MS = -62167219200000;
const LAST_ISO_MS = 253402300799999;

/** A WHERE clause (after `tenant_id = $1`) and its values, from `$2` on. */
export interface AuditFilter {
  where: string;
  values: unknown[];
}

/**
 * The query's filter. Timestamps are compared as text in byte order (COLLATE
 * "C"): every stored timestamp is toISOString's, whose order is time order
 * within 4-digit years; a bound outside them is decided here instead.
 */
export function auditFilter(query: Omit<AuditQuery, 'limit'>): AuditFilter {
  const terms = ['tenant_id = $1'];
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value) + 1}`;
  for (const [key, column] of FILTERS) {
    const value: unknown = query[key];
    if (value === undefined) continue;
    if (value === null) terms.push(`${column} IS NULL`);
    else if (typeof value === 'string') terms.push(`${column} = ${bind(value)}`);
    else terms.push('false');
  }
  const since = query.since === undefined ? NaN : new Date(query.since).getTime();
  if (since > LAST_ISO_MS) terms.push('false');
  else if (since >= FIRST_ISO_MS) {
    terms.push(`"timestamp" COLLATE "C" >= ${bind(new Date(since).toISOString())}`);
  }
  const until = query.until === undefined ? NaN : new Date(query.until).getTime();
  if (until < FIRST_ISO_MS) terms.push('false');
  else if (until <= LAST_ISO_MS) {
    terms.push(`"timestamp" COLLATE "C" < ${bind(new Date(until).toISOString())}`);
  }
  return { where: terms.join(' AND '), values };
}

/** SELECT of the events that `list(query)` returns, oldest first, or null when it returns none. */
export function listStatement(
  schema: string,
  columns: string,
  query: AuditQuery,
): { text: string; values: unknown[] } | null {
  const limit = query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : Infinity;
  if (limit === 0) return null;
  const filter = auditFilter(query);
  const values = [...filter.values];
  const bind = (value: unknown) => `$${values.push(value) + 1}`;
  const from = `FROM ${schema}.audit_events WHERE ${filter.where}`;
  if (query.offset !== undefined || limit === Infinity) {
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    // NaN or Infinity: the in-memory log starts nowhere, so nothing is found.
    if (!Number.isFinite(offset)) return null;
    const limited = limit === Infinity ? '' : ` LIMIT ${bind(limit)}`;
    return {
      text: `SELECT ${columns} ${from} AND position >= ${bind(offset)} ORDER BY position${limited}`,
      values,
    };
  }
  return {
    text:
      `SELECT * FROM (SELECT ${columns} ${from} ORDER BY position DESC LIMIT ${bind(limit)}) AS recent ` +
      'ORDER BY position',
    values,
  };
}

/** SELECT count(*) of the events that match (`limit` and `offset` do not count). */
export function countStatement(
  schema: string,
  query: Omit<AuditQuery, 'limit'>,
): { text: string; values: unknown[] } {
  const filter = auditFilter(query);
  return {
    text: `SELECT count(*)::bigint AS total FROM ${schema}.audit_events WHERE ${filter.where}`,
    values: filter.values,
  };
}
