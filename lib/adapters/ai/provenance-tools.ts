import type { Tool, ToolSet } from 'ai';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { checkToolCoverage } from '../tool-gate/tool-coverage';
import { approvalsOf } from '../tool-gate/tool-approvals';
import { actionOf } from '../tool-gate/tool-gate';
import { AiAdapterMessages } from './ai.messages';
import type { ProvenanceToolsOptions } from './ai-tools.options';
import { rememberDeferredTool } from '../tool-gate/deferred-tool-call';
import { policyNeedsApproval, type NeedsApproval } from './deferred-approval';
import {
  abortingModelOutput,
  gatedExecute,
  type ExecuteFunction,
  type ToModelOutput,
} from './gated-execute';

export type { ProvenanceToolsOptions } from './ai-tools.options';

/**
 * Gates every tool of an AI SDK tool set: each call is decided by the policy
 * before the tool's `execute` runs, from the tool's input only. Returns a
 * tool set of the same shape (descriptions, schemas and everything else
 * unchanged; only `execute`, and with `onBlock: 'throw'` `toModelOutput`, are
 * wrapped), for `generateText`, `streamText` or an `Agent`.
 *
 * ```ts
 * const tools = provenanceTools(gateway, {
 *   payments_initiate: tool({ description, inputSchema, execute: (input) => pay(input) }),
 * }, { actions: { payments_initiate: 'payments.initiate' } });
 * await generateText({ model, tools, stopWhen: stepCountIs(5), prompt });
 * ```
 *
 * A refused call throws ToolCallRefusedError from `execute`: the SDK gives the
 * model a `tool-error` with the reason and goes on. `onBlock: 'throw'` ends
 * the run instead (generateText rejects, streamText's stream errors, with
 * the library's error). An escalated call is held until a reviewer decides;
 * the SDK's abort signal withdraws it; its tool-call id is the idempotency key.
 * A tool without `execute` (run by your client or the provider) is returned as is.
 * `approvals: 'deferred'` answers the SDK's `needsApproval` from the policy
 * instead of holding (docs/integrations/ai.md, "Deferred approvals").
 */
export function provenanceTools<TOOLS extends ToolSet>(
  gateway: ProvenanceGateway,
  tools: TOOLS,
  options: ProvenanceToolsOptions = {},
): TOOLS {
  checkGateway(gateway);
  approvalsOf(options.approvals);
  const { actions } = options;
  if (actions !== undefined && typeof actions !== 'function') {
    for (const name of Object.keys(actions)) {
      if (!Object.prototype.hasOwnProperty.call(tools, name)) {
        throw new ProvenanceConfigError('actions', AiAdapterMessages.unknownTool(name));
      }
    }
  }
  const gated: Record<string, Tool> = {};
  const wrapped: string[] = [];
  for (const [name, tool] of Object.entries(tools)) {
    gated[name] = gateTool(gateway, name, tool as Tool, options);
    if (gated[name] !== tool) wrapped.push(name);
  }
  // One coverage line (or, with policyCoverage 'strict', one error) for the whole set.
  checkToolCoverage(gateway, wrapped, options, AiAdapterMessages.toolsForCoverage());
  return gated as TOOLS;
}

/**
 * Gates one AI SDK tool, named as the model calls it (the key of its tool
 * set): `provenanceTool(gateway, 'email_send', emailTool, { actions: { email_send: 'email.send' } })`.
 */
export function provenanceTool<T extends Tool>(
  gateway: ProvenanceGateway,
  toolName: string,
  tool: T,
  options: ProvenanceToolsOptions = {},
): T {
  checkGateway(gateway);
  approvalsOf(options.approvals);
  const gated = gateTool(gateway, toolName, tool, options);
  if (gated !== tool)
    checkToolCoverage(gateway, [toolName], options, AiAdapterMessages.toolsForCoverage());
  return gated;
}

function gateTool<T extends Tool>(
  gateway: ProvenanceGateway,
  toolName: string,
  tool: T,
  options: ProvenanceToolsOptions,
): T {
  if (typeof tool !== 'object' || tool === null) {
    throw new ProvenanceConfigError('tools', AiAdapterMessages.notATool(toolName, tool));
  }
  const execute = (tool as { execute?: unknown }).execute;
  if (typeof execute !== 'function') {
    const { actions } = options;
    if (actions !== undefined && typeof actions !== 'function' && toolName in actions) {
      throw new ProvenanceConfigError('actions', AiAdapterMessages.notExecutable(toolName));
    }
    return tool;
  }
  // Checked now: a bad action is a setup error, not a refusal in the middle of a run.
  const action = actionOf(toolName, options);
  const gated = { gateway, toolName, action, options };
  const copy = copyOf(tool);
  replace(copy, 'execute', gatedExecute(gated, execute as ExecuteFunction, tool));
  if (options.onBlock === 'throw') {
    const own = (tool as { toModelOutput?: ToModelOutput }).toModelOutput;
    replace(copy, 'toModelOutput', abortingModelOutput(own, tool));
  }
  if (options.approvals === 'deferred') {
    const own = (tool as { needsApproval?: NeedsApproval }).needsApproval;
    const bound = typeof own === 'function' ? own.bind(tool) : own;
    replace(copy, 'needsApproval', policyNeedsApproval(gated, bound));
    rememberDeferredTool(copy, gated);
  }
  return copy as T;
}

/** The same tool object (prototype, getters and all), to replace a property or two of. */
function copyOf(tool: object): Record<string, unknown> {
  return Object.defineProperties(
    Object.create(Object.getPrototypeOf(tool) as object | null) as Record<string, unknown>,
    Object.getOwnPropertyDescriptors(tool),
  );
}

function replace(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

function checkGateway(gateway: ProvenanceGateway): void {
  if (typeof (gateway as { execute$?: unknown } | null | undefined)?.execute$ !== 'function') {
    throw new ProvenanceConfigError('gateway', AiAdapterMessages.notAGateway(gateway));
  }
}
