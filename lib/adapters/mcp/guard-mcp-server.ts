import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ExecutionResult } from '../../protocol/execution-result';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { actionOf, decideToolCall, runAllowedTool, type ToolVerdict } from '../tool-gate';
import { mcpErrorOf } from './mcp-error';
import { checkMcpServerCoverage } from './mcp-tool-coverage';
import type { McpGuardOptions, McpToolCall } from './mcp-guard.options';
import { heldProgress } from './mcp-held-progress';
import { McpMessages } from './mcp.messages';
import { TOOLS_CALL, toolCallOf } from './mcp-tool-call';
import { toolChanged, toolInput, type McpToolRegistry } from './mcp-tool-input';
import { refusalResult, toolErrorResult, withDecision } from './mcp-tool-result';

/** A request handler as the SDK's Protocol stores it: the raw request, the request's extra. */
type StoredHandler = (request: StoredRequest, extra: StoredExtra) => Promise<unknown>;
interface StoredRequest {
  method: string;
  params?: unknown;
}
interface StoredExtra {
  signal: AbortSignal;
  sessionId?: string;
  _meta?: { progressToken?: unknown };
  sendNotification?: (notification: { method: string; params: unknown }) => Promise<void>;
}

const GUARDED = Symbol.for('nestjs-provenance.mcp.guarded');

/**
 * Gates every `tools/call` an MCP server answers: each call is decided by the
 * gateway before its tool runs, for the tools registered before this call and
 * after it alike (and for a tools/call handler set directly on a low-level
 * `Server`). Returns the server it was given.
 *
 * - ALLOW: the tool runs; its result carries the decision in
 *   `_meta['nestjs-provenance/decision']` (the approver, for a held call).
 * - BLOCK: the tool does not run; the client receives the SDK's native error
 *   result, `{ content: [{ type: 'text', text: reason }], isError: true }`
 *   (`onBlock: 'throw'`: a JSON-RPC error instead).
 * - ESCALATE: held until a human decides (a client that asked for progress
 *   is told so, with the escalation id); the request's cancellation (or its
 *   connection closing) withdraws it.
 *
 * On an McpServer the policy decides on the arguments the tool's input schema
 * parsed, which is what the tool receives. The hook is the server's stored
 * tools/call handler: any way of registering a tool goes through it. The
 * McpServer's tools are checked against the policy (`policyCoverage`) now and
 * as they are registered.
 */
export function guardMcpServer<S extends McpServer | Server<any, any, any>>(
  gateway: ProvenanceGateway,
  server: S,
  options: McpGuardOptions = {},
): S {
  const registry = isMcpServer(server) ? (server as unknown as McpToolRegistry) : null;
  const protocol: unknown = isMcpServer(server) ? server.server : server;
  const handlers = requestHandlersOf(protocol);
  if (Object.hasOwn(handlers, GUARDED)) {
    throw new ProvenanceConfigError('server', McpMessages.alreadyGuarded('server'));
  }
  // Before anything is guarded: with policyCoverage 'strict' an uncovered tool refuses it all.
  if (isMcpServer(server)) checkMcpServerCoverage(gateway, server, options);
  const set = handlers.set;
  const gate = (handler: StoredHandler) => gatedHandler(gateway, handler, registry, options);
  Object.defineProperty(handlers, 'set', {
    configurable: true,
    writable: true,
    value: (method: string, handler: StoredHandler) =>
      set.call(handlers, method, method === TOOLS_CALL ? gate(handler) : handler),
  });
  Object.defineProperty(handlers, GUARDED, { value: true });
  const current = handlers.get(TOOLS_CALL);
  if (current !== undefined) set.call(handlers, TOOLS_CALL, gate(current));
  return server;
}

function isMcpServer(server: McpServer | Server<any, any, any>): server is McpServer {
  const s = server as Partial<McpServer>;
  return typeof s.registerTool === 'function' && s.server !== undefined && s.server !== null;
}

/** The SDK's map of request handlers by method (Protocol, 1.x), or a refusal to guard. */
function requestHandlersOf(protocol: unknown): Map<string, StoredHandler> {
  const handlers = (protocol as { _requestHandlers?: unknown } | null)?._requestHandlers;
  if (!(handlers instanceof Map)) {
    throw new ProvenanceConfigError('server', McpMessages.notAServer());
  }
  return handlers as Map<string, StoredHandler>;
}

function gatedHandler(
  gateway: ProvenanceGateway,
  handler: StoredHandler,
  registry: McpToolRegistry | null,
  options: McpGuardOptions,
): StoredHandler {
  return async (request, extra) => {
    const call = toolCallOf(request.params, extra.sessionId);
    const input = await toolInput(registry, call);
    if ('invalid' in input) return input.invalid;
    const verdict = await decide(gateway, call, input.value, extra, options);
    if (!verdict.allowed) return refusalResult(verdict.refusal, verdict.error);
    if (toolChanged(registry, call.name, input)) {
      return toolErrorResult(McpMessages.toolChanged(call.name));
    }
    const result = await runAllowedTool(verdict.result, () => handler(request, extra));
    return withDecision(result, verdict);
  };
}

async function decide(
  gateway: ProvenanceGateway,
  call: McpToolCall,
  input: unknown,
  extra: StoredExtra,
  options: McpGuardOptions,
): Promise<ToolVerdict> {
  const { signal } = extra;
  let action: string | null = null;
  try {
    action = actionOf(call.name, options);
    const toolCallId = options.idempotencyKey?.(call);
    const onEscalated = (interim: ExecutionResult) => reportHeld(extra, interim);
    return await decideToolCall(
      gateway,
      { toolName: call.name, input, toolCallId, signal, onEscalated },
      options,
    );
  } catch (error) {
    // A cancelled request has no one to answer: the SDK sends nothing for it.
    if (signal.aborted) throw error;
    throw mcpErrorOf(action, error);
  }
}

/** A client that asked for progress hears that its call is held, and for which escalation. */
function reportHeld(extra: StoredExtra, interim: ExecutionResult): void {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined || extra.sendNotification === undefined) return;
  const params = { progressToken, ...heldProgress(interim) };
  extra.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined);
}
