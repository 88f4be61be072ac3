import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionResult } from '../../protocol/execution-result';
import { McpMessages } from './mcp.messages';

/**
 * The progress a held call reports, once, when it is held: MCP's way of
 * telling a caller that asked for progress (a `progressToken`, `onprogress`)
 * why its call waits, and which escalation a reviewer must decide.
 */
export function heldProgress(interim: ExecutionResult): Progress {
  return { progress: 0, message: McpMessages.held(interim.escalationId) };
}
