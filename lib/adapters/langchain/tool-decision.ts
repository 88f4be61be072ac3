import { AsyncLocalStorage } from 'node:async_hooks';
import type { ExecutionResult } from '../../protocol/execution-result';
import { runAllowedTool } from '../tool-gate';

/** The ALLOW a gated tool runs under, for the length of its run. */
const decisions = new AsyncLocalStorage<ExecutionResult>();

/**
 * @internal Runs `body` with `result` as the current tool decision (and as
 * the ALLOW a guarded method it calls on the same input reuses).
 */
export function runWithDecision<R>(result: ExecutionResult, body: () => R): R {
  return decisions.run(result, () => runAllowedTool(result, body));
}

/**
 * Inside a gated tool's body (the tool wrapper's or the middleware's): the
 * gateway's ALLOW this call runs under (its audit event, session, and for an
 * approved escalation `actorHumanId`, the approver). Undefined outside a
 * gated call.
 *
 * `tool(async (input) => pay(input, { approvedBy: currentToolDecision()?.actorHumanId }), {...})`
 */
export function currentToolDecision(): ExecutionResult | undefined {
  return decisions.getStore();
}
