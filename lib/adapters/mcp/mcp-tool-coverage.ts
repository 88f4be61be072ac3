import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { checkToolCoverage } from '../tool-gate';
import type { McpGuardOptions } from './mcp-guard.options';
import type { McpToolRegistry } from './mcp-tool-input';
import { McpMessages } from './mcp.messages';

/** The McpServer methods that register a tool, its name first. */
const REGISTERING = ['registerTool', 'tool'] as const;

/**
 * The `policyCoverage` check of an McpServer's tools: those registered when
 * it is guarded, as one set (one warning line, or with `strict` an error
 * before anything is guarded), then each tool registered later, as it is
 * registered (with `strict`, the registration throws and the tool is not
 * added). A low-level Server has no registry: its tools are not checked.
 */
export function checkMcpServerCoverage(
  gateway: ProvenanceGateway,
  server: McpServer,
  options: McpGuardOptions,
): void {
  const framework = McpMessages.toolsForCoverage();
  const registered = (server as unknown as McpToolRegistry)._registeredTools ?? {};
  checkToolCoverage(gateway, Object.keys(registered), options, framework);
  for (const method of REGISTERING) {
    const original = server[method] as unknown;
    if (typeof original !== 'function') continue;
    Object.defineProperty(server, method, {
      configurable: true,
      writable: true,
      value: function registering(this: McpServer, name: unknown, ...rest: unknown[]): unknown {
        if (typeof name === 'string') checkToolCoverage(gateway, [name], options, framework);
        return (original as (...args: unknown[]) => unknown).call(this, name, ...rest);
      },
    });
  }
}
