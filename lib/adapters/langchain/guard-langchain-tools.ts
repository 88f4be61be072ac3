import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import {
  isStructuredTool,
  type StructuredTool,
  type ToolRunnableConfig,
} from '@langchain/core/tools';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import {
  actionOf,
  checkToolCoverage,
  decideToolCall,
  type ToolGateOptions,
  type ToolRefusal,
} from '../tool-gate';
import { LangChainMessages } from './langchain.messages';
import { refusalMessage, refusalText } from './refusal-message';
import { runAllowedTool } from '../tool-gate/tool-decision';

/** What the gate needs of a StructuredTool: its (protected) body. */
interface ToolBody {
  _call(
    input: unknown,
    runManager?: CallbackManagerForToolRun,
    config?: ToolRunnableConfig,
  ): Promise<unknown> | AsyncGenerator<unknown, unknown>;
}

/**
 * Gates LangChain tools: each call is decided by the gateway before the
 * tool's body runs. Returns tools of the same kind, in the same order, with
 * the same `name`, `description`, `schema` (and everything else), so they
 * drop into `createAgent({ model, tools: guardLangChainTools(gateway, tools) })`,
 * `model.bindTools(...)` or a LangGraph `ToolNode`.
 *
 * The audit parameters are the tool's input after its schema parsed it (what
 * the body would receive), never the RunnableConfig (callbacks, signal,
 * state...); the tool call's id is the idempotency key; aborting the config's
 * `signal` withdraws a held call. A refused call answers the model with a
 * ToolMessage (status `error`) whose content is the refusal as JSON; a direct
 * `tool.invoke(input)` without a tool call resolves with the `ToolRefusal`.
 * The body learns its ALLOW (the approver of a held call) from `currentToolDecision()`.
 * With `onBlock: 'throw'`, `invoke()` rejects with the library's error instead
 * (under `createAgent`, use `provenanceMiddleware` for that: its tool node turns
 * a tool's error into a message for the model and goes on).
 */
export function guardLangChainTools<T extends readonly StructuredTool[]>(
  gateway: ProvenanceGateway,
  tools: T,
  options: ToolGateOptions = {},
): T {
  if (!Array.isArray(tools)) {
    throw new ProvenanceConfigError('tools', LangChainMessages.notToolList(tools));
  }
  const guarded = tools.map((tool, index) => guard(gateway, tool, options, index));
  const names = tools.map((tool) => tool.name);
  checkToolCoverage(gateway, names, options, LangChainMessages.toolsForCoverage());
  return guarded as unknown as T;
}

/** `guardLangChainTools` for one tool. */
export function guardLangChainTool<T extends StructuredTool>(
  gateway: ProvenanceGateway,
  tool: T,
  options: ToolGateOptions = {},
): T {
  const guarded = guard(gateway, tool, options, null);
  checkToolCoverage(gateway, [tool.name], options, LangChainMessages.toolsForCoverage());
  return guarded;
}

function guard<T extends StructuredTool>(
  gateway: ProvenanceGateway,
  tool: T,
  options: ToolGateOptions,
  index: number | null,
): T {
  if (!isStructuredTool(tool) || typeof (tool as unknown as ToolBody)._call !== 'function') {
    throw new ProvenanceConfigError('tools', LangChainMessages.notStructuredTool(index, tool));
  }
  // A bad `actions` entry is a configuration error now, not at the first call.
  actionOf(tool.name, options);
  const original = tool as unknown as ToolBody;
  // Everything else is the tool's own, read through the prototype: the same
  // class (instanceof holds), schema, description, callbacks and response format.
  const guarded = Object.create(tool) as T;
  Object.defineProperty(guarded, '_call', {
    configurable: true,
    writable: true,
    value: async function gatedCall(
      input: unknown,
      runManager?: CallbackManagerForToolRun,
      config?: ToolRunnableConfig,
    ): Promise<unknown> {
      const toolCallId = toolCallIdOf(config);
      const verdict = await decideToolCall(
        gateway,
        { toolName: tool.name, input, toolCallId, signal: config?.signal },
        options,
      );
      if (!verdict.allowed) return refusalOutput(tool, verdict.refusal, toolCallId);
      return runAllowedTool(verdict.result, () => original._call(input, runManager, config));
    },
  });
  return guarded;
}

function toolCallIdOf(config: ToolRunnableConfig | undefined): string | undefined {
  const id = config?.toolCall?.id ?? (config as { toolCallId?: unknown } | undefined)?.toolCallId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The refusal in the shape the tool's `call()` expects of its body: a
 * ToolMessage when there is a tool call to answer (LangChain passes it on as
 * is), else the refusal itself; a `[content, artifact]` pair for a tool whose
 * `responseFormat` is `content_and_artifact`.
 */
function refusalOutput(
  tool: StructuredTool,
  refusal: ToolRefusal,
  toolCallId: string | undefined,
): unknown {
  const pair = tool.responseFormat === 'content_and_artifact';
  if (toolCallId !== undefined) {
    const message = refusalMessage(refusal, tool.name, toolCallId);
    return pair ? [message, refusal] : message;
  }
  return pair ? [refusalText(refusal), refusal] : refusal;
}
