import type { GrantRecord } from '../../protocol/grant.types';
import { compileGlob, type GlobMatcher } from '../policy/fnmatch';
import {
  compileCondition,
  firstFailedCondition,
  type CompiledCondition,
} from '../policy/policy.condition';
import type { GrantedCall } from './grant-store';

/** A grant's terms compiled once: its action matcher and its conditions. */
export interface CompiledGrant {
  readonly matchesAction: GlobMatcher;
  readonly conditions: readonly CompiledCondition[];
}

/**
 * The matcher of a grant: a standing grant's action is a glob (as in a policy
 * rule), a single-use grant's the exact action it approved.
 */
export function compileGrant(
  record: Pick<GrantRecord, 'kind' | 'action' | 'conditions'>,
): CompiledGrant {
  const matchesAction =
    record.kind === 'single-use'
      ? (action: string) => action === record.action
      : compileGlob(record.action);
  const conditions = record.conditions.map((condition) =>
    compileCondition(condition as Parameters<typeof compileCondition>[0]),
  );
  return { matchesAction, conditions };
}

/**
 * Whether a grant's terms cover a call: its agent and session (when it names
 * them), its action, every condition on the parameters, and for a single-use
 * grant the parameters' hash of the approved call (asked last, only then).
 * Whether the grant is still in force (status, expiry, uses) is the store's
 * business. The one rule of every grant store.
 */
export function grantCovers(
  record: GrantRecord,
  call: GrantedCall,
  compiled: CompiledGrant = compileGrant(record),
): boolean {
  const { request } = call;
  if (record.agentId !== null && record.agentId !== request.agentId) return false;
  if (record.sessionId !== null && record.sessionId !== request.sessionId) return false;
  if (!compiled.matchesAction(request.action)) return false;
  if (firstFailedCondition(compiled.conditions, call.parameters) !== -1) return false;
  return record.kind !== 'single-use' || record.parametersHash === call.parametersHash();
}

/** The call with its parameters' hash computed at most once, when first asked. */
export function hashedOnce(call: GrantedCall): GrantedCall {
  let hash: string | undefined;
  return {
    request: call.request,
    parameters: call.parameters,
    parametersHash: () => (hash ??= call.parametersHash()),
  };
}

/**
 * Compiled grants by id, for a store that reads its grants back as records
 * (a grant's terms never change after it is given): the `limit` most
 * recently used are kept.
 */
export class GrantMatchers {
  private readonly compiled = new Map<string, { action: string; grant: CompiledGrant }>();

  constructor(private readonly limit = 1000) {}

  of(record: GrantRecord): CompiledGrant {
    const seen = this.compiled.get(record.id);
    if (seen !== undefined && seen.action === record.action) {
      this.compiled.delete(record.id);
      this.compiled.set(record.id, seen);
      return seen.grant;
    }
    const grant = compileGrant(record);
    this.compiled.set(record.id, { action: record.action, grant });
    if (this.compiled.size > this.limit) {
      this.compiled.delete(this.compiled.keys().next().value as string);
    }
    return grant;
  }

  /** Whether `record` covers `call` (see grantCovers), compiled once per grant. */
  covers(record: GrantRecord, call: GrantedCall): boolean {
    return grantCovers(record, call, this.of(record));
  }
}
