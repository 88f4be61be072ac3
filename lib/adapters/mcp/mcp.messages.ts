/** The texts of the MCP adapter (`nestjs-provenance/mcp`). What reaches a client never names a URL. */
export const McpMessages = {
  toolsForCoverage: () => 'the MCP server tools',
  notAServer: () =>
    'guardMcpServer needs an McpServer or a Server of @modelcontextprotocol/sdk 1.x ' +
    '(its request handlers were not found, so it cannot be gated); nothing was guarded',
  notAClient: () =>
    'guardMcpClient needs a Client of @modelcontextprotocol/sdk 1.x (it has no request method); ' +
    'nothing was guarded',
  alreadyGuarded: (what: 'server' | 'client') =>
    `this MCP ${what} is already guarded; guarding it twice would decide every call twice`,
  badToolCall: () =>
    'tools/call without a tool name, or with arguments that are not an object: refused before any tool ran',
  held: (escalationId: string | null) =>
    `held for a human reviewer (escalation ${escalationId ?? 'unknown'}); ` +
    'the call runs only if it is approved',
  refused: (reason: string, approverReason: string | null) =>
    approverReason ? `${reason} (the reviewer said: ${approverReason})` : reason,
  toolChanged: (name: string) =>
    `tool '${name}' was re-registered with another input schema while its call was decided; ` +
    'the call did not run',
} as const;
