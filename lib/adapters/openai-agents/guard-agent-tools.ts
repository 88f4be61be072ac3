import type { FunctionTool, RunContext, Tool } from '@openai/agents';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { actionOf, checkToolCoverage, decideToolCall, runAllowedTool } from '../tool-gate';
import type {
  AgentToolApprovals,
  AgentToolCallDetails,
  AgentToolGateOptions,
} from './agent-tools.options';
import { deferredFor, forgetDeferred } from './deferred-call';
import { inputTextOf, policyApproval } from './policy-approval';
import { OpenAIAgentsMessages } from './openai-agents.messages';
import { toolCallInput } from './tool-call-input';
import { withDecision } from './tool-decision';

type AnyFunctionTool = FunctionTool<any, any, any>;

/**
 * Gates `@openai/agents` function tools: each call is decided by the gateway
 * before the tool runs. Returns tools of the same kind, in the same order,
 * with the same name, description, parameters, timeout, guardrails (and
 * everything else), so they drop into `new Agent({ tools: guardAgentTools(gateway, tools) })`.
 *
 * The audit parameters are the tool's input, the JSON arguments the model
 * sent, parsed; never the run context, the details or the signal. The tool
 * call's `callId` is the idempotency key; aborting the run's `signal` (or the
 * tool's `timeoutMs`, which covers the hold) withdraws a held call. A refused
 * call answers the model with the `ToolRefusal` as the tool's output, and the
 * run goes on; with `onBlock: 'throw'` the run rejects with the SDK's
 * `ToolCallError`, whose `error` is the library's. A tool reads its ALLOW
 * (who approved it) with `toolDecisionOf(details)`.
 *
 * With `approvals: 'deferred'` an escalated call does not hold the run: the
 * tool's `needsApproval` asks the gateway, the run stops with an interruption
 * while the gateway holds the call, and `approveAgentToolCall` /
 * `rejectAgentToolCall` decide it through the reviewer before `run(agent, state)` resumes.
 */
export function guardAgentTools<T extends readonly Tool[]>(
  gateway: ProvenanceGateway,
  tools: T,
  options: AgentToolGateOptions = {},
): T {
  if (!Array.isArray(tools)) {
    throw new ProvenanceConfigError('tools', OpenAIAgentsMessages.notToolList(tools));
  }
  const guarded = tools.map((tool: unknown, index) => guard(gateway, tool, options, index));
  const names = guarded.map((tool) => tool.name);
  checkToolCoverage(gateway, names, options, OpenAIAgentsMessages.toolsForCoverage());
  return guarded as unknown as T;
}

/** `guardAgentTools` for one tool. */
export function guardAgentTool<T extends AnyFunctionTool>(
  gateway: ProvenanceGateway,
  tool: T,
  options: AgentToolGateOptions = {},
): T {
  const guarded = guard(gateway, tool, options, null) as T;
  checkToolCoverage(gateway, [guarded.name], options, OpenAIAgentsMessages.toolsForCoverage());
  return guarded;
}

function guard(
  gateway: ProvenanceGateway,
  tool: unknown,
  options: AgentToolGateOptions,
  index: number | null,
): AnyFunctionTool {
  if (!isFunctionTool(tool)) {
    throw new ProvenanceConfigError('tools', OpenAIAgentsMessages.notFunctionTool(index, tool));
  }
  // A bad `actions` entry or `approvals` is a configuration error now, not at the first call.
  actionOf(tool.name, options);
  const deferred = approvalsOf(options) === 'deferred';
  const invoke = gatedInvoke(gateway, tool, options, deferred);
  if (!deferred) return copyWith(tool, { invoke });
  return copyWith(tool, { invoke, needsApproval: policyApproval(gateway, tool.name, options) });
}

/**
 * The tool's invoke behind the gate: the original runs only after an ALLOW
 * for exactly this call. With deferred approvals, the call `needsApproval`
 * already put to the gateway is answered here (the reviewer's decision).
 */
function gatedInvoke(
  gateway: ProvenanceGateway,
  tool: AnyFunctionTool,
  options: AgentToolGateOptions,
  deferred: boolean,
): AnyFunctionTool['invoke'] {
  const original = tool.invoke;
  return async function gatedInvoke(
    runContext: RunContext,
    input: string,
    details?: AgentToolCallDetails,
  ): Promise<unknown> {
    const parsed = toolCallInput(input);
    const toolCallId = callIdOf(details);
    const signal = details?.signal;
    const held = deferred
      ? deferredFor(gateway, toolCallId, tool.name, inputTextOf(parsed))
      : undefined;
    if (held !== undefined) forgetDeferred(held);
    const verdict = await (held?.answer(signal) ??
      decideToolCall(gateway, { toolName: tool.name, input: parsed, toolCallId, signal }, options));
    if (!verdict.allowed) return verdict.refusal;
    const decided = withDecision(details, verdict.result);
    return runAllowedTool(verdict.result, () => original.call(tool, runContext, input, decided));
  };
}

/**
 * A copy of the tool with `overrides`: every other property (symbols
 * included: the SDK keeps an output validator and a namespace there) is the
 * tool's own.
 */
function copyWith(tool: AnyFunctionTool, overrides: Partial<AnyFunctionTool>): AnyFunctionTool {
  const descriptors = Object.getOwnPropertyDescriptors(tool);
  for (const key of Object.keys(overrides)) delete (descriptors as Record<string, unknown>)[key];
  const copy = Object.create(Object.getPrototypeOf(tool) as object | null, descriptors) as object;
  return Object.assign(copy, overrides) as AnyFunctionTool;
}

function isFunctionTool(tool: unknown): tool is AnyFunctionTool {
  return (
    tool !== null &&
    typeof tool === 'object' &&
    (tool as { type?: unknown }).type === 'function' &&
    typeof (tool as { invoke?: unknown }).invoke === 'function' &&
    typeof (tool as { name?: unknown }).name === 'string'
  );
}

function approvalsOf(options: AgentToolGateOptions): AgentToolApprovals {
  const { approvals } = options;
  if (approvals === undefined || approvals === 'held' || approvals === 'deferred') {
    return approvals ?? 'held';
  }
  throw new ProvenanceConfigError('approvals', OpenAIAgentsMessages.badApprovals(approvals));
}

function callIdOf(details: AgentToolCallDetails): string | undefined {
  const id = details?.toolCall?.callId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
