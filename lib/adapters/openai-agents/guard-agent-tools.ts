import type { FunctionTool, RunContext, Tool } from '@openai/agents';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { actionOf, checkToolCoverage, decideToolCall, runAllowedTool } from '../tool-gate';
import type { AgentToolCallDetails, AgentToolGateOptions } from './agent-tools.options';
import { deferredVerdict } from '../tool-gate/deferred-verdict';
import { approvalsOf } from '../tool-gate/tool-approvals';
import { rememberDeferredTool } from '../tool-gate/deferred-tool-call';
import { policyApproval } from './policy-approval';
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
 * tool's `needsApproval` asks `gateway.executeDeferred`, the run stops with an
 * interruption while the escalation stays pending, and `approveAgentToolCall` /
 * `rejectAgentToolCall` decide it through the reviewer before `run(agent, state)`
 * resumes (on any replica).
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
  const deferred = approvalsOf(options.approvals) === 'deferred';
  const invoke = gatedInvoke(gateway, tool, options, deferred);
  if (!deferred) return copyWith(tool, { invoke });
  const asked = { gateway, toolName: tool.name, action: actionOf(tool.name, options), options };
  const copy = copyWith(tool, { invoke, needsApproval: policyApproval(asked) });
  rememberDeferredTool(copy, asked);
  return copy;
}

/**
 * The tool's invoke behind the gate: the original runs only after an ALLOW
 * for exactly this call. With deferred approvals (and a call id) it runs
 * under the ALLOW `needsApproval` got, or (a resumed run, on any replica)
 * the identical call is decided again, never held: under the grant a
 * reviewer's approval left, or refused with its new escalation withdrawn.
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
    const asked = { gateway, toolName: tool.name, action: actionOf(tool.name, options), options };
    const verdict = await (deferred && toolCallId !== undefined
      ? deferredVerdict(asked, { input: parsed, toolCallId, signal })
      : decideToolCall(
          gateway,
          { toolName: tool.name, input: parsed, toolCallId, signal },
          options,
        ));
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

function callIdOf(details: AgentToolCallDetails): string | undefined {
  const id = details?.toolCall?.callId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}
