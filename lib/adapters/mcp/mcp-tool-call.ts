import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { McpMessages } from './mcp.messages';
import type { McpToolCall } from './mcp-guard.options';

/** The JSON-RPC method of a tool call. */
export const TOOLS_CALL = 'tools/call';

/**
 * The tool call in a `tools/call` request's params, checked before anything
 * is decided: a request without a tool name, or whose arguments are not an
 * object, is refused with the SDK's InvalidParams error (no tool runs, and a
 * client sends nothing).
 */
export function toolCallOf(params: unknown, mcpSessionId?: string): McpToolCall {
  const p = isRecord(params) ? params : {};
  const { name, arguments: args, _meta: meta } = p;
  if (typeof name !== 'string' || (args !== undefined && !isRecord(args))) {
    throw new McpError(ErrorCode.InvalidParams, McpMessages.badToolCall());
  }
  const call: McpToolCall = {
    name,
    arguments: args,
    _meta: isRecord(meta) ? meta : undefined,
  };
  if (mcpSessionId !== undefined) call.mcpSessionId = mcpSessionId;
  return call;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
