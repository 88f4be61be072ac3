import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toolErrorResult } from './mcp-tool-result';
import type { McpToolCall } from './mcp-guard.options';

/** What an McpServer keeps of a registered tool (SDK 1.x internals, read only). */
interface RegisteredTool {
  inputSchema?: unknown;
}

/** The parts of an McpServer the adapter reads to decide on what the tool will receive. */
export interface McpToolRegistry {
  _registeredTools?: Record<string, RegisteredTool>;
  validateToolInput?: (tool: RegisteredTool, args: unknown, name: string) => Promise<unknown>;
}

/** The input a call is decided on, and the schema it was parsed with. */
export type ToolInput =
  { value: unknown; tool: RegisteredTool | null; schema: unknown } | { invalid: CallToolResult };

function registered(registry: McpToolRegistry | null, name: string): RegisteredTool | null {
  const tools = registry?._registeredTools;
  if (tools === undefined || tools === null || !Object.hasOwn(tools, name)) return null;
  return tools[name] ?? null;
}

/**
 * What the tool will receive: on an McpServer, the arguments parsed by the
 * tool's own input schema (defaults, coercions and stripped keys included), so
 * the policy decides on what runs; an input the schema refuses is answered
 * with the SDK's own validation error and never decided. On a low-level
 * Server, or for a name no tool has, the arguments as sent.
 */
export async function toolInput(
  registry: McpToolRegistry | null,
  call: McpToolCall,
): Promise<ToolInput> {
  const tool = registered(registry, call.name);
  const validate = registry?.validateToolInput;
  if (tool === null || typeof validate !== 'function') {
    return { value: call.arguments, tool: null, schema: undefined };
  }
  const schema = tool.inputSchema;
  try {
    return { value: await validate.call(registry, tool, call.arguments, call.name), tool, schema };
  } catch (error) {
    return { invalid: toolErrorResult(error instanceof Error ? error.message : String(error)) };
  }
}

/**
 * True when the tool a call was parsed for is no longer the one registered
 * under its name, or parses with another schema: the decision was about
 * another input, so the call must not run.
 */
export function toolChanged(
  registry: McpToolRegistry | null,
  name: string,
  before: { tool: RegisteredTool | null; schema: unknown },
): boolean {
  if (before.tool === null) return false;
  const now = registered(registry, name);
  return now !== before.tool || now.inputSchema !== before.schema;
}
