import { AsyncLocalStorage } from 'node:async_hooks';
import { runAsDecidedCall } from '../../call/decided-call';
import type { ExecutionResult } from '../../protocol/execution-result';

/** The ALLOW a gated tool's body runs under, for the length of its run. */
const decisions = new AsyncLocalStorage<ExecutionResult>();

/**
 * Runs the body of a tool the gateway ALLOWed, with that ALLOW in scope:
 * `currentToolDecision()` returns it, and a guarded method the body calls
 * with the same action and normalised parameters (same session, same
 * gateway) reuses it once, while the body runs, instead of being decided
 * (and audited, or held) a second time. Every adapter runs its tools here.
 */
export function runAllowedTool<T>(result: ExecutionResult, body: () => T): T {
  return decisions.run(result, () => runAsDecidedCall(result, body));
}

/**
 * Inside the body of a tool any adapter gated (AI SDK, LangChain, MCP,
 * OpenAI Agents): the gateway's ALLOW this call runs under (its audit event,
 * session, and for an approved escalation `actorHumanId`, the approver).
 * Undefined outside a gated tool's body.
 *
 * `const approvedBy = currentToolDecision()?.actorHumanId ?? null;`
 */
export function currentToolDecision(): ExecutionResult | undefined {
  return decisions.getStore();
}
