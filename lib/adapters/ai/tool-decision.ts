import type { ExecutionResult } from '../../protocol/execution-result';

/** The ALLOW each gated call ran under, by the options object the AI SDK handed its execute. */
const decisions = new WeakMap<object, ExecutionResult>();

/** @internal Remembers the decision a call runs under, for `toolDecisionOf`. */
export function rememberDecision(options: unknown, result: ExecutionResult): void {
  if (typeof options === 'object' && options !== null) decisions.set(options, result);
}

/**
 * Inside a gated tool's `execute(input, options)`: the gateway's ALLOW this
 * call runs under (its audit event, session, and for an approved escalation
 * `actorHumanId`, the approver). Undefined outside a gated call.
 *
 * `execute: async (input, options) => pay(input, { approvedBy: toolDecisionOf(options)?.actorHumanId })`
 */
export function toolDecisionOf(options: unknown): ExecutionResult | undefined {
  return typeof options === 'object' && options !== null ? decisions.get(options) : undefined;
}
