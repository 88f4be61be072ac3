import type { GrantCondition, GrantInput } from '../../protocol/grant.types';
import { isValidAction } from '../../protocol/action';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { GrantMessages } from '../engine.messages';
import { validatePolicy } from '../policy/policy.loader';

const HOUR = 60 * 60_000;
/** The longest a standing grant may last: 30 days. */
export const MAX_GRANT_MS = 30 * 24 * HOUR;
/** The most uses one grant may allow. */
export const MAX_GRANT_USES = 10_000;

export interface CheckedGrantInput {
  action: string;
  conditions: GrantCondition[];
  agentId: string | null;
  sessionId: string | null;
  expiresInMs: number;
  maxUses: number;
  reason: string | null;
}

function fail(field: string, expected: string, got: unknown): never {
  throw new ProvenanceConfigError(field, GrantMessages.badField(field, expected, got));
}

function optionalString(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '') fail(field, 'a non-empty string', value);
  return value;
}

function wholeNumber(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    fail(field, `a whole number from 1 to ${max}`, value);
  }
  return value;
}

/**
 * A reviewer's grant, checked: every field named when it is wrong, the
 * conditions through the policy loader (the same operators, aliases and
 * messages as a policy rule's), and four eyes: a grant for one agent may not
 * be given by that agent.
 */
export function checkGrantInput(input: GrantInput, grantedBy: string): CheckedGrantInput {
  if (typeof input !== 'object' || input === null) fail('grant', 'an object', input);
  if (typeof grantedBy !== 'string' || grantedBy.trim() === '') {
    fail('grantedBy', 'the approving principal', grantedBy);
  }
  if (!isValidAction(input.action)) fail('action', 'an action or glob', input.action);
  const agentId = optionalString('agentId', input.agentId);
  const sessionId = optionalString('sessionId', input.sessionId);
  const reason = input.reason === undefined || input.reason === null ? null : input.reason;
  if (reason !== null && typeof reason !== 'string') fail('reason', 'a string', reason);
  if (agentId !== null && agentId === grantedBy) {
    throw new ProvenanceConfigError('agentId', GrantMessages.selfGrant(grantedBy));
  }
  const conditions = input.conditions ?? [];
  if (!Array.isArray(conditions)) fail('conditions', 'a list of conditions', conditions);
  // The loader's own checks, on a one-rule document: a grant's conditions mean what a rule's do.
  const checked = validatePolicy(
    { name: 'grant', rules: [{ action: input.action, conditions, on_match: 'ALLOW' }] },
    'grant',
  ).document.rules[0].conditions;
  return {
    action: input.action,
    conditions: (checked ?? []).map((c) => ({
      field: c.field,
      operator: c.operator,
      value: c.value,
    })),
    agentId,
    sessionId,
    expiresInMs: wholeNumber('expiresInMs', input.expiresInMs, HOUR, MAX_GRANT_MS),
    maxUses: wholeNumber('maxUses', input.maxUses, 1, MAX_GRANT_USES),
    reason,
  };
}
