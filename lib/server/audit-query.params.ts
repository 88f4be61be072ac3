import { AUDIT_EVENT_KINDS, type AuditEventKind } from '../engine/audit/audit-event';
import type { AuditQuery } from '../engine/audit/audit-query';
import { isDecision } from '../protocol/decision';
import { WireHttpError, type ValidationIssue } from './errors';

/** The filters of an audit listing or count, by query parameter (AuditQuery in snake_case). */
const TEXT_FILTERS: ReadonlyArray<[string, 'sessionId' | 'agentId' | 'action' | 'escalationId']> = [
  ['session_id', 'sessionId'],
  ['agent_id', 'agentId'],
  ['action', 'action'],
  ['escalation_id', 'escalationId'],
];

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
  for (const [param, member] of TEXT_FILTERS) {
    const value = text(param);
    if (value !== undefined) filter[member] = value;
  }
  const decision = text('decision');
  if (decision !== undefined) {
    if (isDecision(decision)) filter.decision = decision;
    else issues.push(enumIssue('decision', decision, ['ALLOW', 'BLOCK', 'ESCALATE']));
  }
  const kind = text('kind');
  if (kind !== undefined) {
    if (AUDIT_EVENT_KINDS.includes(kind as AuditEventKind)) filter.kind = kind as AuditEventKind;
    else issues.push(enumIssue('kind', kind, AUDIT_EVENT_KINDS));
  }
  for (const name of ['since', 'until'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    if (Number.isNaN(Date.parse(value))) {
      issues.push({
        type: 'datetime_from_date_parsing',
        loc: ['query', name],
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
