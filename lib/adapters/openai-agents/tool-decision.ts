import type { ExecutionResult } from '../../protocol/execution-result';
import type { AgentToolCallDetails } from './agent-tools.options';

/** Where the gate leaves its ALLOW on the call's details (not enumerable: never logged or serialized). */
const DECISION = Symbol('nestjs-provenance.openaiAgents.decision');

/**
 * The gateway's ALLOW for the call a guarded tool is running, from the
 * `details` its `execute(input, runContext, details)` receives: who approved
 * it (`actorHumanId`), its escalation and audit event. Undefined outside a
 * guarded tool.
 */
export function toolDecisionOf(details: unknown): ExecutionResult | undefined {
  if (details === null || typeof details !== 'object') return undefined;
  return (details as { [DECISION]?: ExecutionResult })[DECISION];
}

/**
 * The details to run the tool with, carrying the decision. The SDK's own
 * object is kept (it keys the call's usage recorder and tracing on it, and
 * copies every property when it wraps it for a timeout), as the SDK marks it.
 */
export function withDecision(
  details: AgentToolCallDetails,
  decision: ExecutionResult,
): NonNullable<AgentToolCallDetails> {
  let target: object = details ?? {};
  if (!Object.isExtensible(target)) {
    target = Object.create(
      Object.getPrototypeOf(target) as object | null,
      Object.getOwnPropertyDescriptors(target),
    ) as object;
  }
  Object.defineProperty(target, DECISION, {
    value: decision,
    enumerable: false,
    configurable: true,
  });
  return target as NonNullable<AgentToolCallDetails>;
}
