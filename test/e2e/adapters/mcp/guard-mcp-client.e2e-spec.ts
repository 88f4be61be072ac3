import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { PolicyBlockedError, ProvenanceGateway, ProvenanceReviewer } from '../../../../lib';
import { DECISION_META_KEY, REFUSAL_META_KEY, guardMcpClient } from '../../../../lib/adapters/mcp';
import {
  DELETE_REASON,
  actions,
  bootApp,
  lastToolMessage,
  link,
  nextEscalation,
  whenHeld,
  runAgent,
  toolCallsReceived,
  type Linked,
} from './mcp-agent.fixture';

/** The app's MCP client, guarded: the agent's calls to a remote (here: in-memory) server. */
@Injectable()
class AgentMcpClient {
  readonly client: Client;
  constructor(gateway: ProvenanceGateway) {
    this.client = guardMcpClient(gateway, new Client({ name: 'guarded-agent', version: '1.0.0' }), {
      actions,
    });
  }
}

/** A remote server that knows nothing of the gateway: it runs whatever reaches it. */
function remoteServer(ran: Array<{ tool: string; args: unknown }>): McpServer {
  const server = new McpServer({ name: 'remote', version: '1.0.0' });
  server.registerTool(
    'payments_initiate',
    { inputSchema: { amount: z.number(), currency: z.string() } },
    async (args) => {
      ran.push({ tool: 'payments_initiate', args });
      return { content: [{ type: 'text', text: `paid ${args.amount} ${args.currency}` }] };
    },
  );
  server.registerTool('data_delete', { inputSchema: { table: z.string() } }, async (args) => {
    ran.push({ tool: 'data_delete', args });
    return { content: [{ type: 'text', text: `deleted ${args.table}` }] };
  });
  return server;
}

describe('guardMcpClient: the calls a Nest app makes to an MCP server, decided before they are sent', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let reviewer: ProvenanceReviewer;
  let client: Client;
  let ran: Array<{ tool: string; args: unknown }>;
  let linked: Linked;

  beforeEach(async () => {
    app = await bootApp([AgentMcpClient]);
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
    client = app.get(AgentMcpClient).client;
    ran = [];
    linked = await link(remoteServer(ran), client);
  });
  afterEach(async () => {
    await linked.close();
    await app.close();
  });

  it('returns the very client it was given; a small payment is sent and runs', async () => {
    const fresh = new Client({ name: 'x', version: '1.0.0' });
    expect(guardMcpClient(gateway, fresh)).toBe(fresh);

    const run = await runAgent(client, 'Pay invoice 3', [
      () => ({ call: { name: 'payments_initiate', arguments: { amount: 60, currency: 'GBP' } } }),
      (seen) => ({ answer: lastToolMessage(seen).text }),
    ]);
    expect(ran).toEqual([{ tool: 'payments_initiate', args: { amount: 60, currency: 'GBP' } }]);
    expect(run.messages.at(-1)).toEqual({ role: 'assistant', text: 'paid 60 GBP' });
    expect(toolCallsReceived(linked.received)).toHaveLength(1);
    // Other requests pass untouched.
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['data_delete', 'payments_initiate']);
  });

  it('refuses a deletion without sending anything: the server receives nothing', async () => {
    const before = linked.received.length;
    const run = await runAgent(client, 'Drop the users table', [
      () => ({ call: { name: 'data_delete', arguments: { table: 'users' } } }),
      (seen) => ({ answer: `Refused: ${lastToolMessage(seen).text}` }),
    ]);
    expect(linked.received.length).toBe(before);
    expect(toolCallsReceived(linked.received)).toEqual([]);
    expect(ran).toEqual([]);
    expect(run.seen[1].at(-1)).toEqual({
      role: 'tool',
      tool: 'data_delete',
      text: DELETE_REASON,
      isError: true,
    });
    expect(run.messages.at(-1)).toEqual({ role: 'assistant', text: `Refused: ${DELETE_REASON}` });

    const direct = await client.callTool({ name: 'data_delete', arguments: { table: 'orders' } });
    const [, second] = await gateway.audit!.list({ decision: 'BLOCK' });
    expect(direct).toEqual({
      content: [{ type: 'text', text: DELETE_REASON }],
      isError: true,
      _meta: {
        [REFUSAL_META_KEY]: {
          blocked: true,
          reason: DELETE_REASON,
          eventId: second.id,
          action: 'data.delete',
        },
      },
    });
    expect(linked.received.length).toBe(before);
  });

  it('holds a big payment, unsent, until a reviewer approves it; then sends it once', async () => {
    const desk = whenHeld(reviewer, async (held) => {
      const sentWhileHeld = toolCallsReceived(linked.received).length;
      await reviewer.approve(held.id, { approverId: 'cfo@example.com', reason: 'checked' });
      return { held, sentWhileHeld };
    });
    const result = await client.callTool({
      name: 'payments_initiate',
      arguments: { amount: 2500, currency: 'GBP' },
    });
    const { held, sentWhileHeld } = await desk;

    expect(sentWhileHeld).toBe(0);
    expect(held.parameters).toEqual({ amount: 2500, currency: 'GBP' });
    expect(toolCallsReceived(linked.received)).toHaveLength(1);
    expect(ran).toEqual([{ tool: 'payments_initiate', args: { amount: 2500, currency: 'GBP' } }]);
    expect(result.content).toEqual([{ type: 'text', text: 'paid 2500 GBP' }]);
    expect(result._meta?.[DECISION_META_KEY]).toMatchObject({
      action: 'payments.initiate',
      escalationId: held.id,
      approvedBy: 'cfo@example.com',
      approverReason: 'checked',
    });
  });

  it('withdraws the escalation when the caller aborts, and sends nothing', async () => {
    const controller = new AbortController();
    const withdrawn = nextEscalation(gateway, 'withdrawn');
    void whenHeld(reviewer, () => controller.abort(new Error('the user stopped the agent')));
    const call = client.callTool(
      { name: 'payments_initiate', arguments: { amount: 9000, currency: 'GBP' } },
      undefined,
      { signal: controller.signal },
    );
    await expect(call).rejects.toThrow('the user stopped the agent');
    const event = await withdrawn;
    const audit = await gateway.audit!.list({ escalationId: event.escalationId });
    expect(audit.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.withdrawn']);
    expect(toolCallsReceived(linked.received)).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('records exactly the tool arguments: not the prompt, the _meta or the request options', async () => {
    await runAgent(
      client,
      'Pay invoice 8 and remove table t',
      [
        () => ({ call: { name: 'payments_initiate', arguments: { amount: 12, currency: 'CHF' } } }),
        () => ({ call: { name: 'data_delete', arguments: { table: 't' } } }),
        () => ({ answer: 'done' }),
      ],
      { onprogress: () => undefined },
      { 'example.com/trace': 'trace-c11e' },
    );
    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.action, e.decision])).toEqual([
      ['payments.initiate', 'ALLOW'],
      ['data.delete', 'BLOCK'],
    ]);
    expect(JSON.stringify(events[0].parameters)).toBe('{"amount":12,"currency":"CHF"}');
    expect(JSON.stringify(events[1].parameters)).toBe('{"table":"t"}');
    const text = JSON.stringify(events);
    for (const absent of ['trace-c11e', 'progressToken', 'invoice 8', 'signal']) {
      expect(text).not.toContain(absent);
    }
    // The server did get the _meta: it is the request's, not the audit's.
    const [sent] = toolCallsReceived(linked.received) as Array<{ params: { _meta: object } }>;
    expect(sent.params._meta).toMatchObject({ 'example.com/trace': 'trace-c11e' });
  });

  it("rejects with the library's error under onBlock: 'throw', sending nothing", async () => {
    const strict = guardMcpClient(gateway, new Client({ name: 's', version: '1.0.0' }), {
      actions,
      onBlock: 'throw',
    });
    const mine: Array<{ tool: string; args: unknown }> = [];
    const other = await link(remoteServer(mine), strict);
    try {
      const call = strict.callTool({ name: 'data_delete', arguments: { table: 'x' } });
      await expect(call).rejects.toBeInstanceOf(PolicyBlockedError);
      await expect(
        strict.callTool({ name: 'data_delete', arguments: { table: 'x' } }),
      ).rejects.toMatchObject({ reason: DELETE_REASON });
      expect(toolCallsReceived(other.received)).toEqual([]);
      expect(mine).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('uses the idempotency key it is given: a retry is answered, not decided again', async () => {
    const keyed = guardMcpClient(gateway, new Client({ name: 'k', version: '1.0.0' }), {
      actions,
      idempotencyKey: (call) => call._meta?.['example.com/call-id'] as string | undefined,
    });
    const other = await link(remoteServer([]), keyed);
    try {
      const params = {
        name: 'payments_initiate',
        arguments: { amount: 5, currency: 'GBP' },
        _meta: { 'example.com/call-id': 'step-1' },
      };
      await keyed.callTool(params);
      await keyed.callTool(params);
      const events = await gateway.audit!.list({});
      expect(events.map((e) => e.kind)).toEqual(['decision', 'decision.replayed']);
    } finally {
      await other.close();
    }
  });

  it('refuses to guard the same client twice, or something that is not a client', () => {
    expect(() => guardMcpClient(gateway, client)).toThrow('already guarded');
    expect(() => guardMcpClient(gateway, {} as Client)).toThrow('@modelcontextprotocol/sdk');
  });
});
