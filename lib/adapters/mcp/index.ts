/**
 * `nestjs-provenance/mcp`: policy-gated tool calls for the Model Context
 * Protocol SDK (`@modelcontextprotocol/sdk` 1.x, an optional peer dependency
 * loaded only by this entry point).
 */
export { guardMcpServer } from './guard-mcp-server';
export { guardMcpClient } from './guard-mcp-client';
export type { McpGuardOptions, McpToolCall } from './mcp-guard.options';
export { DECISION_META_KEY, REFUSAL_META_KEY, type McpToolDecision } from './mcp-tool-result';
export { currentToolDecision } from '../tool-gate/tool-decision';
export type { ToolActions, ToolRefusal } from '../tool-gate';
