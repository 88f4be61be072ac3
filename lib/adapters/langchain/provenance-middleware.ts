import type { ToolCall } from '@langchain/core/messages/tool';
import { ToolInputParsingException, isStructuredTool } from '@langchain/core/tools';
import { interopSafeParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';
import { ToolInvocationError, createMiddleware, type AgentMiddleware } from 'langchain';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { decideToolCall, type ToolGateOptions } from '../tool-gate';
import { LangChainMessages } from './langchain.messages';
import { refusalMessage } from './refusal-message';
import { runAllowedTool } from '../tool-gate/tool-decision';

/** The options of `provenanceMiddleware`: the tool gate's, and the middleware's name. */
export interface ProvenanceMiddlewareOptions extends ToolGateOptions {
  /** The middleware's name in the agent (names must be unique there). Default `'provenance'`. */
  name?: string;
}

/**
 * A `createAgent` middleware that gates every tool call of the agent in its
 * `wrapToolCall` hook: `createAgent({ model, tools, middleware: [provenanceMiddleware(gateway)] })`.
 * The tool runs (the handler is called) only after an ALLOW, which it can
 * read with `currentToolDecision()` (the approver of a held call).
 *
 * The audit parameters are the call's arguments as the tool's schema parses
 * them (what the tool will receive), never the agent's state, messages or
 * runtime; the tool call's id is the idempotency key; the run's abort signal
 * withdraws a held call. A refused call answers the model with a ToolMessage
 * (status `error`) whose content is the refusal as JSON, and the loop goes on;
 * with `onBlock: 'throw'` the run rejects (LangChain wraps the library's error
 * in a `MiddlewareError`: it is the `cause`). Arguments the tool's schema
 * rejects are answered as LangChain answers them, without asking the gateway.
 *
 * List it last in `middleware`, so that it is the innermost: no other
 * middleware can change a call after it was decided.
 */
export function provenanceMiddleware(
  gateway: ProvenanceGateway,
  options: ProvenanceMiddlewareOptions = {},
): AgentMiddleware {
  const { name = 'provenance', ...gate } = options;
  return createMiddleware({
    name,
    wrapToolCall: async (request, handler) => {
      const { toolCall } = request;
      const input = await parsedInput(request.tool, toolCall);
      const verdict = await decideToolCall(
        gateway,
        { toolName: toolCall.name, input, toolCallId: toolCall.id, signal: request.runtime.signal },
        gate,
      );
      if (!verdict.allowed) return refusalMessage(verdict.refusal, toolCall.name, toolCall.id);
      return runAllowedTool(verdict.result, () => handler(request));
    },
  });
}

/**
 * The arguments as the tool will see them: through its zod schema when it has
 * one (defaults filled in, unknown keys dropped, transforms applied), as sent
 * otherwise. Arguments the schema rejects never reach the gateway or the tool.
 */
async function parsedInput(tool: unknown, toolCall: ToolCall): Promise<unknown> {
  const schema = isStructuredTool(tool as Parameters<typeof isStructuredTool>[0])
    ? (tool as { schema?: unknown }).schema
    : undefined;
  if (schema === undefined || !isInteropZodSchema(schema)) return toolCall.args;
  const parsed = await interopSafeParseAsync(schema, toolCall.args);
  if (parsed.success) return parsed.data;
  const message = LangChainMessages.badInput(toolCall.name, JSON.stringify(parsed.error.issues));
  throw new ToolInvocationError(
    new ToolInputParsingException(message, JSON.stringify(toolCall.args)),
    toolCall,
  );
}
