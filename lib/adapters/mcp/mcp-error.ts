import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import {
  GatewayError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../protocol/provenance.errors';
import { refusalOf } from '../tool-gate';
import { AdapterMessages } from '../tool-gate/adapter.messages';
import { McpMessages } from './mcp.messages';
import { approverReasonOf } from './mcp-tool-result';

/**
 * The error a server's tools/call answers with (what the SDK's Protocol sends
 * as a JSON-RPC error: `code`, `message`, `data`). Not an McpError, whose
 * message is prefixed with "MCP error <code>:" and so would be twice on the
 * client's side.
 */
export type McpWireError = Error & { code: number; data?: unknown };

/**
 * The JSON-RPC error a server answers when a call's decision failed
 * (`onBlock: 'throw'`, a misconfiguration, a bug): the refusal's reason as the
 * message and the refusal as data, a fixed text for a gateway failure, never
 * the gateway's address or a stack.
 */
export function mcpErrorOf(action: string | null, error: unknown): McpWireError {
  if (error instanceof ProvenanceConfigError) {
    return wireError(ErrorCode.InternalError, error.message);
  }
  if (error instanceof ProvenanceError && action !== null) {
    const refusal = refusalOf(action, error);
    const code = error instanceof GatewayError ? ErrorCode.InternalError : ErrorCode.InvalidRequest;
    const approverReason = approverReasonOf(error);
    const text = McpMessages.refused(refusal.reason, approverReason);
    return wireError(
      code,
      text,
      approverReason === null ? refusal : { ...refusal, approverReason },
    );
  }
  return wireError(ErrorCode.InternalError, AdapterMessages.gatewayFailed());
}

function wireError(code: number, message: string, data?: unknown): McpWireError {
  const error = new Error(message) as McpWireError;
  error.code = code;
  if (data !== undefined) error.data = data;
  return error;
}
