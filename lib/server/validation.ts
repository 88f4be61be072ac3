import type { GatewayRequest, ReviewVerdict } from '../protocol/gateway.types';
import type { Decision } from '../protocol/decision';
import type { WireExecuteRequest } from '../protocol/wire';
import { ServerMessages } from '../protocol/provenance.messages';
import { actionProblem, ACTION_RULE } from '../protocol/action';
import {
  describeTextProblem,
  identityProblem,
  IDENTITY_RULE,
  type TextProblem,
} from '../protocol/identity';
import { isValidSessionId, SESSION_ID_PATTERN } from '../protocol/session-id';
import { WireHttpError, type ValidationIssue } from './errors';

/*
 * The request schemas of the reference server (FastAPI + pydantic v2), with
 * its 422 bodies: each issue names the field (`loc`), the rule (`type`) and
 * echoes the offending input, so a client written against the reference reads
 * our errors unchanged. We are stricter than the reference where the
 * embedded gateway must be (an empty action cannot be evaluated) and where a
 * value ends up in the audit trail, logs and terminals: `session_id` keeps the
 * client's session-id rule (SESSION_ID_PATTERN), `agent_id` and `approver_id`
 * the identity rule, `action` the action rule (at most MAX_ACTION_LENGTH
 * characters; lib/protocol/identity.ts and action.ts), the same functions the
 * client asks, so a value is never valid in one place and refused in another.
 */

const DECISIONS = ['ALLOW', 'BLOCK', 'ESCALATE'];

type Body = Record<string, unknown>;

function asBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw WireHttpError.validation([
      {
        type: 'model_attributes_type',
        loc: ['body'],
        msg: 'Input should be a valid dictionary or object to extract fields from',
        input: body,
      },
    ]);
  }
  return body as Body;
}

function requiredString(body: Body, field: string, issues: ValidationIssue[]): void {
  const value = body[field];
  if (value === undefined) {
    issues.push({ type: 'missing', loc: ['body', field], msg: 'Field required', input: body });
  } else if (typeof value !== 'string') {
    issues.push({
      type: 'string_type',
      loc: ['body', field],
      msg: 'Input should be a valid string',
      input: value,
    });
  }
}

function optionalString(body: Body, field: string, issues: ValidationIssue[]): void {
  const value = body[field];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    issues.push({
      type: 'string_type',
      loc: ['body', field],
      msg: 'Input should be a valid string',
      input: value,
    });
  }
}

/** `session_id`: the session-id rule, as pydantic words a `pattern` constraint. */
function sessionIdIssue(body: Body, issues: ValidationIssue[]): void {
  const value = body.session_id;
  if (typeof value !== 'string' || isValidSessionId(value)) return;
  issues.push({
    type: 'string_pattern_mismatch',
    loc: ['body', 'session_id'],
    msg: `String should match pattern '${SESSION_ID_PATTERN.source}'`,
    input: value,
    ctx: { pattern: SESSION_ID_PATTERN.source },
  });
}

/**
 * A string field under the identity or action rule: pydantic's own wording for
 * the length limits, a `value_error` naming the character for the rest.
 */
function textIssue(
  body: Body,
  field: string,
  problem: (value: unknown) => TextProblem | null,
  rule: string,
  issues: ValidationIssue[],
): void {
  const value = body[field];
  if (typeof value !== 'string') return; // missing or mistyped: requiredString said so
  const found = problem(value);
  if (found === null) return;
  const loc = ['body', field];
  if (found.kind === 'blank' && value === '') {
    issues.push({
      type: 'string_too_short',
      loc,
      msg: 'String should have at least 1 character',
      input: value,
      ctx: { min_length: 1 },
    });
  } else if (found.kind === 'too-long') {
    issues.push({
      type: 'string_too_long',
      loc,
      msg: `String should have at most ${found.max} characters (got ${found.length})`,
      input: value,
      ctx: { max_length: found.max },
    });
  } else {
    issues.push({
      type: 'value_error',
      loc,
      msg: `Value error, ${field} ${describeTextProblem(found)}; it must be ${rule}`,
      input: value,
      ctx: { error: describeTextProblem(found) },
    });
  }
}

/** `POST /v1/gateway/execute`: throws a 422 WireHttpError, or returns the seam's request. */
export function parseExecuteBody(raw: unknown): GatewayRequest {
  const body = asBody(raw);
  const issues: ValidationIssue[] = [];
  requiredString(body, 'session_id', issues);
  sessionIdIssue(body, issues);
  requiredString(body, 'agent_id', issues);
  textIssue(body, 'agent_id', identityProblem, IDENTITY_RULE, issues);
  requiredString(body, 'action', issues);
  textIssue(body, 'action', actionProblem, ACTION_RULE, issues);
  const parameters = body.parameters;
  if (
    parameters !== undefined &&
    parameters !== null &&
    (typeof parameters !== 'object' || Array.isArray(parameters))
  ) {
    issues.push({
      type: 'dict_type',
      loc: ['body', 'parameters'],
      msg: 'Input should be a valid dictionary',
      input: parameters,
    });
  }
  const decision = body.decision;
  if (decision === undefined) {
    issues.push({ type: 'missing', loc: ['body', 'decision'], msg: 'Field required', input: body });
  } else if (typeof decision !== 'string' || !DECISIONS.includes(decision)) {
    issues.push({
      type: 'enum',
      loc: ['body', 'decision'],
      msg: "Input should be 'ALLOW', 'BLOCK' or 'ESCALATE'",
      input: decision,
      ctx: { expected: "'ALLOW', 'BLOCK' or 'ESCALATE'" },
    });
  }
  optionalString(body, 'tenant_policy_id', issues);
  optionalString(body, 'idempotency_key', issues);
  if (issues.length > 0) throw WireHttpError.validation(issues);
  const wire = body as unknown as WireExecuteRequest;
  return {
    sessionId: wire.session_id,
    agentId: wire.agent_id,
    action: wire.action,
    parameters: wire.parameters ?? null,
    decision: wire.decision as Decision,
    tenantPolicyId: wire.tenant_policy_id ?? null,
    idempotencyKey: wire.idempotency_key ?? null,
  };
}

export interface DecideBody {
  verdict: ReviewVerdict;
  approverId: string;
  reason: string | null;
}

/** `POST /v1/escalations/{id}/decide`: 422 for a missing or mistyped field, 400 for another decision word. */
export function parseDecideBody(raw: unknown): DecideBody {
  const body = asBody(raw);
  const issues: ValidationIssue[] = [];
  requiredString(body, 'decision', issues);
  requiredString(body, 'approver_id', issues);
  textIssue(body, 'approver_id', identityProblem, IDENTITY_RULE, issues);
  optionalString(body, 'reason', issues);
  if (issues.length > 0) throw WireHttpError.validation(issues);
  const decision = body.decision;
  if (decision !== 'APPROVE' && decision !== 'REJECT') {
    throw WireHttpError.message(400, ServerMessages.invalidDecision());
  }
  return {
    verdict: decision,
    approverId: body.approver_id as string,
    reason: (body.reason as string | null | undefined) ?? null,
  };
}

/** An integer query parameter, FastAPI style: absent → fallback; not an integer or out of range → 422. */
export function queryInteger(
  query: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof text !== 'string' || !/^-?\d+$/.test(text.trim())) {
    throw WireHttpError.validation([
      {
        type: 'int_parsing',
        loc: ['query', name],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: text,
      },
    ]);
  }
  const value = Number(text);
  if (value < min) {
    throw WireHttpError.validation([
      {
        type: 'greater_than_equal',
        loc: ['query', name],
        msg: `Input should be greater than or equal to ${min}`,
        input: text,
        ctx: { ge: min },
      },
    ]);
  }
  if (value > max) {
    throw WireHttpError.validation([
      {
        type: 'less_than_equal',
        loc: ['query', name],
        msg: `Input should be less than or equal to ${max}`,
        input: text,
        ctx: { le: max },
      },
    ]);
  }
  return value;
}
