import { tool as langchainTool } from '@langchain/core/tools';
import { setTracingDisabled, tool as agentTool } from '@openai/agents';
import { tool as aiTool } from 'ai';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { LoggerService } from '@nestjs/common';
import { ProvenanceConfigError, ProvenanceGateway, type PolicyDocument } from '../../../lib';
import { provenanceTool, provenanceTools } from '../../../lib/adapters/ai';
import { guardLangChainTools } from '../../../lib/adapters/langchain';
import { guardMcpServer } from '../../../lib/adapters/mcp';
import { guardAgentTools } from '../../../lib/adapters/openai-agents';

setTracingDisabled(true);

const policy: PolicyDocument = {
  name: 'tools',
  rules: [
    { action: 'payments.initiate', on_match: 'ALLOW' },
    { action: '**', on_match: 'BLOCK' },
  ],
};

class CapturingLogger implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
  error(message: unknown): void {
    this.warnings.push(String(message));
  }
}

const gateways: ProvenanceGateway[] = [];
function gatewayWith(policyCoverage?: 'warn' | 'strict' | 'off') {
  const logger = new CapturingLogger();
  const gateway = new ProvenanceGateway({
    agentId: 'agent-tools',
    policy,
    audit: { store: 'memory' },
    logger,
    policyCoverage,
  });
  gateways.push(gateway);
  return { gateway, logger };
}
afterAll(() => Promise.all(gateways.map((g) => g.close())));

const actions = { payments_initiate: 'payments.initiate', data_delete: 'data.delete' };

function aiTools() {
  const input = z.object({ id: z.string() });
  return {
    payments_initiate: aiTool({ description: 'pay', inputSchema: input, execute: async () => 1 }),
    data_delete: aiTool({ description: 'delete', inputSchema: input, execute: async () => 2 }),
    web_search: aiTool({ description: 'search', inputSchema: input, execute: async () => 3 }),
  };
}

describe('policy coverage of adapter tools, when they are wrapped', () => {
  it('AI SDK: one warning for the whole set, naming the actions the catch-all decides', () => {
    const { gateway, logger } = gatewayWith();
    provenanceTools(gateway, aiTools(), { actions });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(
      'no rule of policy inline names these actions of the AI SDK tools',
    );
    expect(logger.warnings[0]).toContain("data.delete (catch-all rules[1] '**')");
    expect(logger.warnings[0]).toContain("web_search (catch-all rules[1] '**')");
    expect(logger.warnings[0]).not.toContain('payments.initiate');
  });

  it('AI SDK: strict refuses the tool set, and a single covered tool passes', () => {
    const { gateway, logger } = gatewayWith('strict');
    expect(() => provenanceTools(gateway, aiTools(), { actions })).toThrow(ProvenanceConfigError);
    try {
      provenanceTools(gateway, aiTools(), { actions });
    } catch (error) {
      expect((error as ProvenanceConfigError).option).toBe('policyCoverage');
      expect((error as Error).message).toContain('data.delete');
    }
    const single = provenanceTool(gateway, 'payments_initiate', aiTools().payments_initiate, {
      actions,
    });
    expect(typeof single.execute).toBe('function');
    expect(logger.warnings).toEqual([]);
  });

  it('LangChain and OpenAI Agents tools are checked the same way', () => {
    const { gateway, logger } = gatewayWith();
    const schema = z.object({ id: z.string() });
    guardLangChainTools(
      gateway,
      [langchainTool(async () => 'ok', { name: 'data_delete', description: 'x', schema })],
      { actions },
    );
    guardAgentTools(
      gateway,
      [
        agentTool({
          name: 'payments_initiate',
          description: 'x',
          parameters: schema,
          execute: () => 1,
        }),
      ],
      { actions },
    );
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('of the LangChain tools');
    expect(logger.warnings[0]).toContain('data.delete');

    const strict = gatewayWith('strict').gateway;
    expect(() =>
      guardAgentTools(strict, [
        agentTool({ name: 'web_search', description: 'x', parameters: schema, execute: () => 1 }),
      ]),
    ).toThrow(/the OpenAI Agents tools .*web_search/);
  });

  it('MCP server: the tools registered before guarding as one set, later ones as registered', () => {
    const { gateway, logger } = gatewayWith();
    const server = new McpServer({ name: 'coverage', version: '1.0.0' });
    const input = { inputSchema: { id: z.string() } };
    const answer = async () => ({ content: [{ type: 'text' as const, text: 'ok' }] });
    server.registerTool('payments_initiate', input, answer);
    server.registerTool('data_delete', input, answer);
    guardMcpServer(gateway, server, { actions });
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain('of the MCP server tools');
    expect(logger.warnings[0]).toContain('data.delete');
    expect(logger.warnings[0]).not.toContain('payments.initiate');
    server.registerTool('web_search', input, answer);
    expect(logger.warnings).toHaveLength(2);
    expect(logger.warnings[1]).toContain("web_search (catch-all rules[1] '**')");

    const strict = gatewayWith('strict');
    const guarded = new McpServer({ name: 'coverage-strict', version: '1.0.0' });
    guarded.registerTool('payments_initiate', input, answer);
    guardMcpServer(strict.gateway, guarded, { actions });
    expect(() => guarded.registerTool('data_delete', input, answer)).toThrow(
      /the MCP server tools .*data\.delete/,
    );
    // Refused before the SDK registered it: the server does not list it.
    const listed = (guarded as unknown as { _registeredTools: Record<string, unknown> })
      ._registeredTools;
    expect(Object.keys(listed)).toEqual(['payments_initiate']);
    const refused = new McpServer({ name: 'coverage-refused', version: '1.0.0' });
    refused.registerTool('web_search', input, answer);
    expect(() => guardMcpServer(strict.gateway, refused, { actions })).toThrow(
      ProvenanceConfigError,
    );
    expect(strict.logger.warnings).toEqual([]);
  });

  it('checks against the policy in force after a reload', async () => {
    const { gateway, logger } = gatewayWith('strict');
    await gateway.reloadPolicy({
      name: 'tools-v2',
      rules: [
        { action: 'payments.initiate', on_match: 'ALLOW' },
        { action: 'data.*', on_match: 'BLOCK' },
        { action: 'web_search', on_match: 'ALLOW' },
      ],
    });
    expect(() => provenanceTools(gateway, aiTools(), { actions })).not.toThrow();
    // The reload itself is logged; no coverage line is.
    expect(logger.warnings.filter((line) => line.startsWith('Policy coverage'))).toEqual([]);
  });

  it("with 'off' says nothing", () => {
    const { gateway, logger } = gatewayWith('off');
    provenanceTools(gateway, aiTools(), { actions });
    expect(logger.warnings).toEqual([]);
  });
});
