import type { Decision } from '../../protocol/decision';
import type { AuditEvent, AuditEventKind } from './audit-event';

export interface AuditQuery {
  sessionId?: string;
  agentId?: string;
  action?: string;
  decision?: Decision;
  kind?: AuditEventKind;
  escalationId?: string;
  /** Events at or after this time (ISO string or Date). */
  since?: string | Date;
  /** Events strictly before this time. */
  until?: string | Date;
  /**
   * At most this many events: the most recent `limit` (still returned oldest
   * first), or with `offset` the first `limit` from there.
   */
  limit?: number;
  /** Page forward: events from this position on (0-based), oldest first. */
  offset?: number;
}

/**
 * Each member's name as a query parameter of the gateway server's audit API
 * (`GET /v1/audit?session_id=...`): what the server reads and what a remote
 * client writes.
 */
export const AUDIT_QUERY_PARAMS: Readonly<Record<keyof AuditQuery, string>> = {
  sessionId: 'session_id',
  agentId: 'agent_id',
  action: 'action',
  decision: 'decision',
  kind: 'kind',
  escalationId: 'escalation_id',
  since: 'since',
  until: 'until',
  limit: 'limit',
  offset: 'offset',
};

/** Whether the query filters events at all (else every event matches). */
export function hasFilter(query: AuditQuery): boolean {
  return (
    query.sessionId !== undefined ||
    query.agentId !== undefined ||
    query.action !== undefined ||
    query.decision !== undefined ||
    query.kind !== undefined ||
    query.escalationId !== undefined ||
    query.since !== undefined ||
    query.until !== undefined
  );
}

/** The query's filter as a test of one event. */
export function matcher(query: AuditQuery): (event: AuditEvent) => boolean {
  const since = query.since === undefined ? null : new Date(query.since).getTime();
  const until = query.until === undefined ? null : new Date(query.until).getTime();
  return (event) => {
    if (query.sessionId !== undefined && event.sessionId !== query.sessionId) return false;
    if (query.agentId !== undefined && event.agentId !== query.agentId) return false;
    if (query.action !== undefined && event.action !== query.action) return false;
    if (query.decision !== undefined && event.decision !== query.decision) return false;
    if (query.kind !== undefined && event.kind !== query.kind) return false;
    if (query.escalationId !== undefined && event.escalationId !== query.escalationId) return false;
    if (since !== null || until !== null) {
      const time = Date.parse(event.timestamp);
      if (since !== null && time < since) return false;
      if (until !== null && time >= until) return false;
    }
    return true;
  };
}

/** Where a query reads the log: the events at indexes `from` to `end` (exclusive), in order. */
export type AuditEventSource = (from: number, end: number) => AsyncIterable<AuditEvent>;

/**
 * The events of `source` (up to `end`) that match, oldest first. Walks the
 * log once without copying it: with `offset`, forward from that position
 * until `limit` are found; otherwise back from the end until `limit` are
 * found (a ring of at most `limit` events).
 */
export async function listEvents(
  source: AuditEventSource,
  end: number,
  query: AuditQuery,
): Promise<AuditEvent[]> {
  const test = hasFilter(query) ? matcher(query) : null;
  const limit = query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : Infinity;
  const found: AuditEvent[] = [];
  if (limit === 0) return found;
  if (query.offset !== undefined || limit === Infinity) {
    const from = Math.max(0, Math.floor(query.offset ?? 0));
    for await (const event of source(from, end)) {
      if (test !== null && !test(event)) continue;
      found.push(event);
      if (found.length >= limit) break;
    }
    return found;
  }
  const from = test === null ? Math.max(0, end - limit) : 0;
  let matched = 0;
  for await (const event of source(from, end)) {
    if (test !== null && !test(event)) continue;
    if (found.length < limit) found.push(event);
    else found[matched % limit] = event;
    matched++;
  }
  if (matched <= limit) return found;
  const split = matched % limit;
  return [...found.slice(split), ...found.slice(0, split)];
}

/** How many events of `source` (up to `end`) match. */
export async function countEvents(
  source: AuditEventSource,
  end: number,
  query: Omit<AuditQuery, 'limit'>,
): Promise<number> {
  const test = matcher(query);
  let total = 0;
  for await (const event of source(0, end)) if (test(event)) total++;
  return total;
}
