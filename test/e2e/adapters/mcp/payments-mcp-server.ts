// The app's MCP server, a Nest provider: one tool registered before it is
// guarded, one after; every tool body that ran is recorded with its arguments.
import { Injectable } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ProvenanceGateway } from '../../../../lib';
import { guardMcpServer } from '../../../../lib/adapters/mcp';
import { actions } from './mcp-agent.fixture';

@Injectable()
export class PaymentsMcpServer {
  /** Every tool body that ran, with the arguments it received. */
  readonly ran: Array<{ tool: string; args: unknown }> = [];
  readonly server: McpServer;

  constructor(gateway: ProvenanceGateway) {
    const server = new McpServer({ name: 'payments', version: '1.0.0' });
    server.registerTool(
      'payments_initiate',
      {
        description: 'Pay a supplier',
        inputSchema: { amount: z.number(), currency: z.string().default('GBP') },
      },
      async (args) => {
        this.ran.push({ tool: 'payments_initiate', args });
        return { content: [{ type: 'text', text: `paid ${args.amount} ${args.currency}` }] };
      },
    );
    this.server = guardMcpServer(gateway, server, { actions });
    this.server.registerTool(
      'data_delete',
      { description: 'Delete a table', inputSchema: { table: z.string() } },
      async (args) => {
        this.ran.push({ tool: 'data_delete', args });
        return { content: [{ type: 'text', text: `deleted ${args.table}` }] };
      },
    );
  }
}
