import type { INestApplicationContext } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ProvenanceGateway, ProvenanceReviewer } from '../../../../lib';
import { DECISION_META_KEY, REFUSAL_META_KEY, guardMcpServer } from '../../../../lib/adapters/mcp';
import {
  BIG_PAYMENT_REASON,
  DELETE_REASON,
  bootApp,
  lastToolMessage,
  link,
  nextEscalation,
  runAgent,
  whenHeld,
  type Linked,
} from './mcp-agent.fixture';
import { PaymentsMcpServer } from './payments-mcp-server';

describe('guardMcpServer: an McpServer in a Nest app, driven by a scripted agent over MCP', () => {
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  let reviewer: ProvenanceReviewer;
  let mcp: PaymentsMcpServer;
  let linked: Linked;

  beforeEach(async () => {
    app = await bootApp([PaymentsMcpServer]);
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
    mcp = app.get(PaymentsMcpServer);
    linked = await link(mcp.server);
  });
  afterEach(async () => {
    await linked.close();
    await app.close();
  });

  it('returns the very server it was given, and a small payment runs', async () => {
    const server = new McpServer({ name: 'x', version: '1.0.0' });
    expect(guardMcpServer(gateway, server)).toBe(server);

    const run = await runAgent(linked.client, 'Pay invoice 17', [
      () => ({ call: { name: 'payments_initiate', arguments: { amount: 120, currency: 'EUR' } } }),
      (seen) => ({ answer: `Done: ${lastToolMessage(seen).text}` }),
    ]);

    expect(mcp.ran).toEqual([
      { tool: 'payments_initiate', args: { amount: 120, currency: 'EUR' } },
    ]);
    expect(run.messages.at(-1)).toEqual({ role: 'assistant', text: 'Done: paid 120 EUR' });
    const [event] = await gateway.audit!.list({});
    expect(event).toMatchObject({
      action: 'payments.initiate',
      decision: 'ALLOW',
      kind: 'decision',
    });
  });

  it('holds a big payment until a reviewer, elsewhere, approves it; then it runs once', async () => {
    // The reviewer's desk: its own subscription, approving what it is shown.
    const desk = whenHeld(reviewer, async (held) => {
      const ranWhileHeld = mcp.ran.length;
      await reviewer.approve(held.id, { approverId: 'cfo@example.com', reason: 'invoice seen' });
      return { held, ranWhileHeld };
    });
    const run = runAgent(linked.client, 'Pay invoice 42', [
      () => ({ call: { name: 'payments_initiate', arguments: { amount: 900, currency: 'GBP' } } }),
      (seen) => ({ answer: lastToolMessage(seen).text }),
    ]);
    const { held, ranWhileHeld } = await desk;
    const done = await run;

    expect(held.action).toBe('payments.initiate');
    expect(held.parameters).toEqual({ amount: 900, currency: 'GBP' });
    expect(ranWhileHeld).toBe(0);
    expect(mcp.ran).toEqual([
      { tool: 'payments_initiate', args: { amount: 900, currency: 'GBP' } },
    ]);
    expect(done.messages.at(-1)).toEqual({ role: 'assistant', text: 'paid 900 GBP' });
    const audit = await gateway.audit!.list({ escalationId: held.id });
    expect(audit.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.approved']);
    expect(audit[1]).toMatchObject({ actorHumanId: 'cfo@example.com', decision: 'ALLOW' });
  });

  it('puts the approver in the result of a held call that ran', async () => {
    const desk = whenHeld(reviewer, (held) =>
      reviewer.approve(held.id, { approverId: 'cfo@example.com', reason: 'ok' }),
    );
    const result = await linked.client.callTool({
      name: 'payments_initiate',
      arguments: { amount: 700, currency: 'GBP' },
    });
    const outcome = await desk;
    const [, approved] = await gateway.audit!.list({ escalationId: outcome.escalationId });
    expect(result.isError).toBeUndefined();
    expect(result.content).toEqual([{ type: 'text', text: 'paid 700 GBP' }]);
    expect(result._meta?.[DECISION_META_KEY]).toEqual({
      action: 'payments.initiate',
      eventId: approved.id,
      escalationId: outcome.escalationId,
      approvedBy: 'cfo@example.com',
      approverReason: 'ok',
    });
  });

  it('tells a client that asked for progress that its call is held, and by which escalation', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    let approved: Promise<unknown> = Promise.resolve();
    const result = await linked.client.callTool(
      { name: 'payments_initiate', arguments: { amount: 650, currency: 'GBP' } },
      undefined,
      {
        onprogress: (p) => {
          progress.push(p);
          // The client knows which escalation to ask a reviewer for, without listing them.
          const id = /escalation ([^)\s]+)/.exec(p.message ?? '')?.[1] ?? 'none';
          approved = reviewer.approve(id, { approverId: 'ops@example.com' });
        },
        resetTimeoutOnProgress: true,
      },
    );
    await approved;
    const [pending] = await gateway.audit!.list({ kind: 'escalation.pending' });
    expect(progress).toEqual([
      { progress: 0, message: expect.stringContaining(pending.escalationId!) },
    ]);
    expect(result.content).toEqual([{ type: 'text', text: 'paid 650 GBP' }]);
    expect(mcp.ran).toHaveLength(1);
  });

  it("answers a rejected payment with the reviewer's words, and it never runs", async () => {
    const desk = whenHeld(reviewer, (held) =>
      reviewer.reject(held.id, { approverId: 'cfo@example.com', reason: 'unknown supplier' }),
    );
    const run = await runAgent(linked.client, 'Pay invoice 66', [
      () => ({ call: { name: 'payments_initiate', arguments: { amount: 1200, currency: 'GBP' } } }),
      (seen) => ({ answer: lastToolMessage(seen).text }),
    ]);
    const outcome = await desk;
    expect(mcp.ran).toEqual([]);
    const [rejected] = await gateway.audit!.list({ kind: 'escalation.rejected' });
    expect(rejected).toMatchObject({
      escalationId: outcome.escalationId,
      actorHumanId: 'cfo@example.com',
      parameters: { amount: 1200, currency: 'GBP' },
    });
    const last = lastToolMessage(run.seen[1]);
    expect(last.isError).toBe(true);
    expect(last.text).toContain('unknown supplier');
    expect(last.text).not.toContain(BIG_PAYMENT_REASON);
  });

  it('refuses a deletion with the native error result, and the model reads the reason', async () => {
    const run = await runAgent(linked.client, 'Clean up the users table', [
      () => ({ call: { name: 'data_delete', arguments: { table: 'users' } } }),
      (seen) => {
        const last = lastToolMessage(seen);
        return { answer: last.isError ? `I was not allowed: ${last.text}` : 'deleted' };
      },
    ]);

    expect(mcp.ran).toEqual([]);
    expect(run.seen[1].at(-1)).toEqual({
      role: 'tool',
      tool: 'data_delete',
      text: DELETE_REASON,
      isError: true,
    });
    expect(run.messages.at(-1)).toEqual({
      role: 'assistant',
      text: `I was not allowed: ${DELETE_REASON}`,
    });
    const direct = await linked.client.callTool({
      name: 'data_delete',
      arguments: { table: 'orders' },
    });
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
  });

  it('withdraws the escalation when the client aborts the request', async () => {
    const controller = new AbortController();
    const withdrawn = nextEscalation(gateway, 'withdrawn');
    void whenHeld(reviewer, () => controller.abort(new Error('the user closed the chat')));
    const run = runAgent(
      linked.client,
      'Pay invoice 99',
      [
        () => ({
          call: { name: 'payments_initiate', arguments: { amount: 5000, currency: 'GBP' } },
        }),
        () => ({ answer: 'unreachable' }),
      ],
      { signal: controller.signal },
    );

    await expect(run).rejects.toThrow('the user closed the chat');
    const event = await withdrawn;
    expect(event.parameters).toEqual({ amount: 5000, currency: 'GBP' });
    const audit = await gateway.audit!.list({ escalationId: event.escalationId });
    expect(audit.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.withdrawn']);
    expect(await reviewer.pending()).toEqual([]);
    expect(mcp.ran).toEqual([]);
    await expect(reviewer.approve(event.escalationId, { approverId: 'late' })).rejects.toThrow();
  });

  it('records exactly the tool arguments: not the prompt, the _meta or the request options', async () => {
    const meta = { 'example.com/trace': 'trace-7f3a' };
    await runAgent(
      linked.client,
      'Pay invoice 5, then wipe the audit table',
      [
        () => ({ call: { name: 'payments_initiate', arguments: { amount: 75, currency: 'USD' } } }),
        () => ({ call: { name: 'data_delete', arguments: { table: 'audit' } } }),
        () => ({ answer: 'done' }),
      ],
      { onprogress: () => undefined },
      meta,
    );

    const events = await gateway.audit!.list({});
    expect(events.map((e) => [e.action, e.decision])).toEqual([
      ['payments.initiate', 'ALLOW'],
      ['data.delete', 'BLOCK'],
    ]);
    // Key order as canonical JSON has it: byte for byte.
    expect(JSON.stringify(events[0].parameters)).toBe('{"amount":75,"currency":"USD"}');
    expect(JSON.stringify(events[1].parameters)).toBe('{"table":"audit"}');
    const text = JSON.stringify(events);
    for (const absent of ['trace-7f3a', 'progressToken', 'invoice 5', 'signal', 'requestId']) {
      expect(text).not.toContain(absent);
    }
  });
});
