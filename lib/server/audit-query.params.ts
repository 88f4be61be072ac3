import { AUDIT_EVENT_KINDS, type AuditEventKind } from '../engine/audit/audit-event';
import { AUDIT_QUERY_PARAMS as P, type AuditQuery } from '../engine/audit/audit-query';
import { isDecision } from '../protocol/decision';
import { WireHttpError, type ValidationIssue } from './errors';

/** The filters of an audit listing or count that are any text. */
const TEXT_FILTERS = ['sessionId', 'agentId', 'action', 'escalationId'] as const;

/**
 * `?session_id=&agent_id=&action=&decision=&kind=&escalation_id=&since=&until=`
 * as an AuditQuery (without limit and offset, read by the route). Anything
 * that is not one string of the right kind is a 422 naming the parameter:
 * a filter that is dropped would answer with events that do not match it.
 */
export function auditFilterOf(
  query: Record<string, unknown>,
): Omit<AuditQuery, 'limit' | 'offset'> {
  const filter: Omit<AuditQuery, 'limit' | 'offset'> = {};
  const issues: ValidationIssue[] = [];
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    issues.push({
      type: 'string_type',
      loc: ['query', name],
      msg: 'Input should be a valid string',
      input: value,
    });
    return undefined;
  };
  for (const member of TEXT_FILTERS) {
    const value = text(P[member]);
    if (value !== undefined) filter[member] = value;
  }
  const decision = text(P.decision);
  if (decision !== undefined) {
    if (isDecision(decision)) filter.decision = decision;
    else issues.push(enumIssue(P.decision, decision, ['ALLOW', 'BLOCK', 'ESCALATE']));
  }
  const kind = text(P.kind);
  if (kind !== undefined) {
    if (AUDIT_EVENT_KINDS.includes(kind as AuditEventKind)) filter.kind = kind as AuditEventKind;
    else issues.push(enumIssue(P.kind, kind, AUDIT_EVENT_KINDS));
  }
  for (const name of ['since', 'until'] as const) {
    const value = text(P[name]);
    if (value === undefined) continue;
    if (Number.isNaN(Date.parse(value))) {
      issues.push({
        type: 'datetime_from_date_parsing',
        loc: ['query', P[name]],
        msg: 'Input should be a valid datetime (ISO 8601)',
        input: value,
      });
    } else filter[name] = value;
  }
  if (issues.length > 0) throw WireHttpError.validation(issues);
  return filter;
}

function enumIssue(name: string, input: string, allowed: readonly string[]): ValidationIssue {
  return {
    type: 'enum',
    loc: ['query', name],
    msg: `Input should be ${allowed.map((value) => `'${value}'`).join(', ')}`,
    input,
    ctx: { expected: allowed.join(', ') },
  };
}
