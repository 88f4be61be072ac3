import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { DynamicStructuredTool, DynamicTool, StructuredTool, tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import { z } from 'zod';
import { PolicyBlockedError, ProvenanceConfigError } from '../../../../lib';
import {
  guardLangChainTool,
  guardLangChainTools,
  type ToolRefusal,
} from '../../../../lib/adapters/langchain';
import {
  actions,
  boot,
  makeTools,
  nextPending,
  received,
  type BootedApp,
  type Runs,
} from './langchain-app.fixture';

/** A class-based tool with state of its own and a `[content, artifact]` answer. */
class LedgerTool extends StructuredTool {
  name = 'payments_initiate';
  description = 'Pays a recipient and returns the ledger entry as the artifact.';
  schema = z.object({ amount: z.number(), currency: z.string(), recipient: z.string() });
  override responseFormat = 'content_and_artifact';
  readonly #entries: unknown[] = [];

  get entries(): readonly unknown[] {
    return this.#entries;
  }

  protected async _call(input: { amount: number; currency: string; recipient: string }) {
    const entry = { ...input, entry: this.#entries.length + 1 };
    this.#entries.push(entry);
    return [`entry ${entry.entry}`, entry];
  }
}

const toolCall = (name: string, args: Record<string, unknown>, id: string) => ({
  name,
  args,
  id,
  type: 'tool_call' as const,
});

describe('guardLangChainTools', () => {
  let booted: BootedApp;
  let runs: Runs;

  beforeEach(async () => {
    booted = await boot();
    runs = [];
  });
  afterEach(() => booted.app.close());

  it('returns tools of the same kind, with the same name, description and schema', () => {
    const tools = makeTools(runs);
    const guarded = guardLangChainTools(booted.gateway, tools, { actions });

    expect(guarded).toHaveLength(2);
    guarded.forEach((gated, index) => {
      expect(gated).not.toBe(tools[index]);
      expect(gated).toBeInstanceOf(DynamicStructuredTool);
      expect(gated.name).toBe(tools[index].name);
      expect(gated.description).toBe(tools[index].description);
      expect(gated.schema).toBe(tools[index].schema);
      expect(gated.returnDirect).toBe(false);
    });
  });

  it('answers a direct invoke with the output, or with the refusal when refused', async () => {
    const [pay, del] = guardLangChainTools(booted.gateway, makeTools(runs), { actions });

    await expect(pay.invoke({ amount: 3, currency: 'GBP', recipient: 'rec_d' })).resolves.toBe(
      'paid 3 GBP to rec_d',
    );
    const refusal = (await del.invoke({ table: 'orders' })) as unknown as ToolRefusal;

    expect(runs.map((r) => r.tool)).toEqual(['payments_initiate']);
    const [blocked] = await booted.gateway.audit!.list({ decision: 'BLOCK' });
    expect(refusal).toEqual({
      blocked: true,
      reason: 'deleting data is never allowed',
      eventId: blocked.id,
      action: 'data.delete',
    });
  });

  it('rejects with PolicyBlockedError under onBlock: throw, and the body never runs', async () => {
    const [, del] = guardLangChainTools(booted.gateway, makeTools(runs), {
      actions,
      onBlock: 'throw',
    });

    const error = await del.invoke(toolCall('data_delete', { table: 'users' }, 'call_throw')).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect((error as PolicyBlockedError).reason).toBe('deleting data is never allowed');
    expect(runs).toEqual([]);
  });

  it('under createAgent alone, onBlock: throw is answered by its tool node as an error message', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'data_delete', args: { table: 'users' }, id: 'call_node' }])
      .respond(new AIMessage('ok'));
    const [pay, del] = makeTools(runs);
    // An array literal, as an app writes it: the result drops into createAgent's `tools`.
    const agent = createAgent({
      model,
      tools: guardLangChainTools(booted.gateway, [pay, del], { actions, onBlock: 'throw' }),
    });
    await agent.invoke({ messages: [new HumanMessage('delete')] });

    const answer = received(model, 1).at(-1) as ToolMessage;
    expect(answer.status).toBe('error');
    expect(answer.content).toContain('deleting data is never allowed');
    expect(runs).toEqual([]);
  });

  it('keeps a class-based tool working: its own state, and a refusal as [content, artifact]', async () => {
    const ledger = new LedgerTool();
    const gated = guardLangChainTool(booted.gateway, ledger, {
      actions: () => 'payments.initiate',
    });
    expect(gated).toBeInstanceOf(LedgerTool);

    const paid = (await gated.invoke(
      toolCall('payments_initiate', { amount: 10, currency: 'GBP', recipient: 'rec_l' }, 'c_l1'),
    )) as ToolMessage;
    const refused = guardLangChainTool(booted.gateway, ledger, { actions: () => 'data.delete' });
    const blocked = (await refused.invoke(
      toolCall('payments_initiate', { amount: 11, currency: 'GBP', recipient: 'rec_l' }, 'c_l2'),
    )) as ToolMessage;

    expect(paid.content).toBe('entry 1');
    expect(paid.artifact).toEqual({ amount: 10, currency: 'GBP', recipient: 'rec_l', entry: 1 });
    expect(ledger.entries).toHaveLength(1);
    expect(blocked.status).toBe('error');
    expect(blocked.tool_call_id).toBe('c_l2');
    expect(blocked.artifact).toMatchObject({ blocked: true, action: 'data.delete' });
    expect(JSON.parse(blocked.content as string)).toEqual(blocked.artifact);
  });

  it('records a string tool input as { input }', async () => {
    const search = new DynamicTool({
      name: 'records_lookup',
      description: 'Takes a string.',
      func: async (input: string) => `searched ${input}`,
    });
    const [gated] = guardLangChainTools(booted.gateway, [search], {
      actions: { records_lookup: 'records.lookup' },
    });

    await expect(gated.invoke('rec_9')).resolves.toBe('searched rec_9');

    const [event] = await booted.gateway.audit!.list({});
    expect(event.action).toBe('records.lookup');
    expect(event.parameters).toEqual({ input: 'rec_9' });
  });

  it('decides a retried tool call once: the tool call id is the idempotency key', async () => {
    const { gateway, reviewer } = booted;
    const [pay] = guardLangChainTools(gateway, makeTools(runs), { actions });
    const call = toolCall(
      'payments_initiate',
      { amount: 700, currency: 'GBP', recipient: 'rec_r' },
      'call_retried',
    );
    void nextPending(reviewer, 'payments.initiate').then((record) =>
      reviewer.approve(record.id, { approverId: 'bob' }),
    );

    const first = (await pay.invoke(call)) as ToolMessage;
    const second = (await pay.invoke(call)) as ToolMessage;

    // The retry is not held again: it replays the approved decision, approver included.
    expect(first.content).toBe('paid 700 GBP to rec_r, approved by bob');
    expect(second.content).toBe('paid 700 GBP to rec_r, approved by bob');
    expect(runs).toHaveLength(2);
    const kinds = (await gateway.audit!.list({})).map((e) => e.kind);
    expect(kinds).toEqual(['escalation.pending', 'escalation.approved', 'decision.replayed']);
  });

  it('refuses what it cannot gate, and a bad action, when wrapping', () => {
    const [pay] = makeTools(runs);
    const notATool = { name: 'x', description: 'x', schema: { type: 'object' } };
    expect(() =>
      guardLangChainTools(booted.gateway, [pay, notATool as unknown as StructuredTool]),
    ).toThrow(ProvenanceConfigError);
    expect(() => guardLangChainTools(booted.gateway, 'pay' as unknown as StructuredTool[])).toThrow(
      ProvenanceConfigError,
    );
    expect(() =>
      guardLangChainTools(booted.gateway, [pay], { actions: { payments_initiate: '' } }),
    ).toThrow(ProvenanceConfigError);
  });

  it('works with tool() tools made from a plain function too', async () => {
    const echo = tool(async ({ table }: { table: string }) => table, {
      name: 'data_delete',
      description: 'd',
      schema: z.object({ table: z.string() }),
    });
    const [gated] = guardLangChainTools(booted.gateway, [echo], { actions });
    const out = (await gated.invoke(toolCall('data_delete', { table: 't' }, 'c_t'))) as ToolMessage;
    expect(JSON.parse(out.content as string).reason).toBe('deleting data is never allowed');
  });
});
