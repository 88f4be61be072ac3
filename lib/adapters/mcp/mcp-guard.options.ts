import type { ToolGateOptions } from '../tool-gate';

/** One `tools/call` as the MCP adapter sees it, before it is decided. */
export interface McpToolCall {
  /** The tool's name (`params.name`). */
  name: string;
  /** The arguments as sent (`params.arguments`). */
  arguments: Record<string, unknown> | undefined;
  /** The request's `_meta` as sent (`params._meta`). */
  _meta: Record<string, unknown> | undefined;
  /** On a server: the MCP transport's session id, when it has one (Streamable HTTP). */
  mcpSessionId?: string;
}

/** What `guardMcpServer` and `guardMcpClient` take, after the gateway and the server or client. */
export interface McpGuardOptions extends ToolGateOptions {
  /**
   * The idempotency key of a call: a retry with the same key (and the same
   * call) gets the first answer instead of a new decision. Default: none.
   * MCP carries no stable tool-call id: the JSON-RPC request id is a counter of
   * each connection (a new connection reuses 0, 1, 2, …), so using it would
   * hand one call's answer, even a human's approval, to another. On a server,
   * a key taken from the client's `_meta` is the client's word: scope it
   * (e.g. with `mcpSessionId`) and give one only to clients you trust.
   */
  idempotencyKey?: (call: McpToolCall) => string | undefined;
}
