import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent, createMiddleware, MiddlewareError } from 'langchain';
import { PolicyBlockedError } from '../../../../lib';
import { provenanceMiddleware } from '../../../../lib/adapters/langchain';
import {
  actions,
  boot,
  makeTools,
  received,
  type BootedApp,
  type Runs,
} from './langchain-app.fixture';

describe('provenanceMiddleware', () => {
  let booted: BootedApp;
  let runs: Runs;

  beforeEach(async () => {
    booted = await boot();
    runs = [];
  });
  afterEach(() => booted.app.close());

  it('aborts the run under onBlock: throw, with the PolicyBlockedError as the cause', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'data_delete', args: { table: 'users' }, id: 'mw_throw' }])
      .respond(new AIMessage('never reached'));
    const agent = createAgent({
      model,
      tools: makeTools(runs),
      middleware: [provenanceMiddleware(booted.gateway, { actions, onBlock: 'throw' })],
    });

    const error = await agent.invoke({ messages: [new HumanMessage('delete')] }).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(MiddlewareError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(PolicyBlockedError);
    expect((cause as PolicyBlockedError).reason).toBe('deleting data is never allowed');
    expect(model.callCount).toBe(1);
    expect(runs).toEqual([]);
  });

  it('answers arguments the schema rejects as LangChain does, without asking the gateway', async () => {
    const model = fakeModel()
      .respondWithTools([
        {
          name: 'payments_initiate',
          args: { amount: 'lots', currency: 'GBP', recipient: 'rec_x' },
          id: 'mw_bad',
        },
      ])
      .respond(new AIMessage('I will fix the amount.'));
    const agent = createAgent({
      model,
      tools: makeTools(runs),
      middleware: [provenanceMiddleware(booted.gateway, { actions })],
    });

    await agent.invoke({ messages: [new HumanMessage('pay lots')] });

    const answer = received(model, 1).at(-1) as ToolMessage;
    expect(answer.status).toBe('error');
    expect(answer.tool_call_id).toBe('mw_bad');
    expect(answer.content).toContain('did not match expected schema');
    expect(answer.content).toContain('amount');
    expect(runs).toEqual([]);
    expect(await booted.gateway.audit!.list({})).toEqual([]);
  });

  it('listed last, decides the call as outer middleware left it: the audit holds what ran', async () => {
    const rewrite = createMiddleware({
      name: 'rewrite',
      wrapToolCall: (request, handler) =>
        handler({
          ...request,
          toolCall: { ...request.toolCall, args: { ...request.toolCall.args, recipient: 'rec_b' } },
        }),
    });
    const model = fakeModel()
      .respondWithTools([
        {
          name: 'payments_initiate',
          args: { amount: 40, currency: 'GBP', recipient: 'rec_a' },
          id: 'mw_rewrite',
        },
      ])
      .respond(new AIMessage('ok'));
    const agent = createAgent({
      model,
      tools: makeTools(runs),
      middleware: [rewrite, provenanceMiddleware(booted.gateway, { actions })],
    });

    await agent.invoke({ messages: [new HumanMessage('pay rec_a')] });

    expect(runs).toEqual([
      { tool: 'payments_initiate', input: { amount: 40, currency: 'GBP', recipient: 'rec_b' } },
    ]);
    const [event] = await booted.gateway.audit!.list({});
    expect(event.parameters).toEqual({ amount: 40, currency: 'GBP', recipient: 'rec_b' });
  });

  it('gates a call of a tool the agent does not have before LangChain answers it', async () => {
    const model = fakeModel()
      .respondWithTools([{ name: 'shell_exec', args: { cmd: 'rm -rf /' }, id: 'mw_unknown' }])
      .respond(new AIMessage('ok'));
    const agent = createAgent({
      model,
      tools: makeTools(runs),
      middleware: [provenanceMiddleware(booted.gateway)],
    });

    await agent.invoke({ messages: [new HumanMessage('run it')] });

    const answer = received(model, 1).at(-1) as ToolMessage;
    expect(JSON.parse(answer.content as string)).toMatchObject({
      blocked: true,
      reason: 'not on the allow list',
      action: 'shell_exec',
    });
    const [event] = await booted.gateway.audit!.list({});
    expect(event).toMatchObject({ action: 'shell_exec', parameters: { cmd: 'rm -rf /' } });
  });
});
