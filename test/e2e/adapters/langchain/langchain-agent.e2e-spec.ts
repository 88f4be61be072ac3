import { createServer } from 'node:net';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import {
  actions,
  boot,
  gatedAgent,
  nextEscalationEvent,
  nextPending,
  received,
  type BootedApp,
  type Mode,
  type Runs,
} from './langchain-app.fixture';

// The same real createAgent loop, gated once by the tool wrapper and once by the middleware.
describe.each<Mode>(['guardLangChainTools', 'provenanceMiddleware'])(
  'a LangChain createAgent loop gated by %s',
  (mode) => {
    let booted: BootedApp;
    let runs: Runs;
    const id = (name: string) => `${name}-${mode}`;

    beforeEach(async () => {
      booted = await boot();
      runs = [];
    });
    afterEach(() => booted.app.close());

    it('runs a small payment, and the audit holds exactly the tool input', async () => {
      const { gateway } = booted;
      const model = fakeModel()
        .respondWithTools([
          {
            name: 'payments_initiate',
            // `memo` is not in the tool's schema: LangChain drops it before the body sees the input.
            args: { amount: 120, currency: 'GBP', recipient: 'rec_1', memo: 'dropped' },
            id: id('call_small'),
          },
        ])
        .respond(new AIMessage('Paid.'));
      const agent = gatedAgent(mode, gateway, model, runs);

      const out = await agent.invoke({ messages: [new HumanMessage('PROMPT-MARKER pay rec_1')] });

      expect(runs).toEqual([
        { tool: 'payments_initiate', input: { amount: 120, currency: 'GBP', recipient: 'rec_1' } },
      ]);
      const answer = received(model, 1).at(-1) as ToolMessage;
      expect(ToolMessage.isInstance(answer)).toBe(true);
      expect(answer.content).toBe('paid 120 GBP to rec_1');
      expect(answer.tool_call_id).toBe(id('call_small'));
      expect(out.messages.at(-1)?.content).toBe('Paid.');

      const events = await gateway.audit!.list({});
      expect(events.map((e) => [e.kind, e.action, e.decision])).toEqual([
        ['decision', 'payments.initiate', 'ALLOW'],
      ]);
      // Byte for byte: the input the body received, nothing of the RunnableConfig or the messages.
      expect(JSON.stringify(events[0].parameters)).toBe(
        '{"amount":120,"currency":"GBP","recipient":"rec_1"}',
      );
      const recorded = JSON.stringify(events);
      for (const absent of ['PROMPT-MARKER', 'memo', 'signal', 'callbacks', 'configurable']) {
        expect(recorded).not.toContain(absent);
      }
    });

    it('refuses a data deletion, and the model reads the reason in its next message', async () => {
      const { gateway } = booted;
      const model = fakeModel()
        .respondWithTools([{ name: 'data_delete', args: { table: 'users' }, id: id('call_del') }])
        .respond(new AIMessage('I could not delete it.'));
      const agent = gatedAgent(mode, gateway, model, runs);

      const out = await agent.invoke({ messages: [new HumanMessage('drop the users table')] });

      expect(runs).toEqual([]);
      const answer = received(model, 1).at(-1) as ToolMessage;
      expect(ToolMessage.isInstance(answer)).toBe(true);
      expect(answer.status).toBe('error');
      expect(answer.tool_call_id).toBe(id('call_del'));
      const [blocked] = await gateway.audit!.list({ decision: 'BLOCK' });
      expect(JSON.parse(answer.content as string)).toEqual({
        blocked: true,
        reason: 'deleting data is never allowed',
        eventId: blocked.id,
        action: 'data.delete',
      });
      expect(blocked.parameters).toEqual({ table: 'users' });
      expect(out.messages.at(-1)?.content).toBe('I could not delete it.');
    });

    it('holds a big payment until a reviewer approves it from elsewhere, then runs it with the approver', async () => {
      const { gateway, reviewer } = booted;
      const model = fakeModel()
        .respondWithTools([
          {
            name: 'payments_initiate',
            args: { amount: 800, currency: 'GBP', recipient: 'rec_2' },
            id: id('call_big'),
          },
        ])
        .respond(new AIMessage('Paid after approval.'));
      const agent = gatedAgent(mode, gateway, model, runs);
      // The reviewer acts in an async context of its own: a subscription, not the agent's call chain.
      const approved = nextPending(reviewer, 'payments.initiate').then((record) => {
        expect(runs).toEqual([]);
        return reviewer.approve(record.id, { approverId: 'alice', reason: 'ok by CFO' });
      });

      const out = await agent.invoke({ messages: [new HumanMessage('pay rec_2 800')] });
      const outcome = await approved;

      expect(runs).toEqual([
        { tool: 'payments_initiate', input: { amount: 800, currency: 'GBP', recipient: 'rec_2' } },
      ]);
      expect((received(model, 1).at(-1) as ToolMessage).content).toBe(
        'paid 800 GBP to rec_2, approved by alice',
      );
      expect(out.messages.at(-1)?.content).toBe('Paid after approval.');
      const events = await gateway.audit!.list({ escalationId: outcome.escalationId });
      expect(events.map((e) => [e.kind, e.decision, e.actorHumanId])).toEqual([
        ['escalation.pending', 'ESCALATE', null],
        ['escalation.approved', 'ALLOW', 'alice'],
      ]);
      expect(events[1].approverReason).toBe('ok by CFO');
      expect(events[0].parameters).toEqual({ amount: 800, currency: 'GBP', recipient: 'rec_2' });
    });

    it('tells the model when the reviewer rejects a held call, and the tool never runs', async () => {
      const { gateway, reviewer } = booted;
      const model = fakeModel()
        .respondWithTools([
          {
            name: 'payments_initiate',
            args: { amount: 950, currency: 'GBP', recipient: 'rec_6' },
            id: id('call_reject'),
          },
        ])
        .respond(new AIMessage('The payment was rejected.'));
      const agent = gatedAgent(mode, gateway, model, runs);
      const rejected = nextPending(reviewer, 'payments.initiate').then((record) =>
        reviewer.reject(record.id, { approverId: 'bob', reason: 'not this month' }),
      );

      await agent.invoke({ messages: [new HumanMessage('pay rec_6 950')] });
      const { escalationId } = await rejected;

      expect(runs).toEqual([]);
      const events = await gateway.audit!.list({ escalationId });
      expect(events.map((e) => [e.kind, e.actorHumanId])).toEqual([
        ['escalation.pending', null],
        ['escalation.rejected', 'bob'],
      ]);
      const answer = received(model, 1).at(-1) as ToolMessage;
      expect(answer.status).toBe('error');
      expect(JSON.parse(answer.content as string)).toEqual({
        blocked: true,
        reason: events[1].reason,
        eventId: events[1].id,
        action: 'payments.initiate',
        escalationId,
        // The reviewer's own words reach the model too.
        approverReason: 'not this month',
      });
    });

    it('withdraws the escalation of an aborted run, and the tool never runs', async () => {
      const { gateway, reviewer } = booted;
      const model = fakeModel()
        .respondWithTools([
          {
            name: 'payments_initiate',
            args: { amount: 900, currency: 'EUR', recipient: 'rec_3' },
            id: id('call_abort'),
          },
        ])
        .respond(new AIMessage('never reached'));
      const agent = gatedAgent(mode, gateway, model, runs);
      const controller = new AbortController();
      const withdrawn = nextEscalationEvent(gateway, 'withdrawn');
      void nextPending(reviewer, 'payments.initiate').then(() => controller.abort());

      const error = await agent
        .invoke({ messages: [new HumanMessage('pay rec_3 900')] }, { signal: controller.signal })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/abort/i);

      const event = await withdrawn;
      expect(runs).toEqual([]);
      expect(model.callCount).toBe(1);
      expect(await reviewer.pending()).toEqual([]);
      const events = await gateway.audit!.list({ escalationId: event.escalationId });
      expect(events.map((e) => [e.kind, e.decision])).toEqual([
        ['escalation.pending', 'ESCALATE'],
        ['escalation.withdrawn', 'BLOCK'],
      ]);
    });

    it('records the calls in the session current when the agent was invoked', async () => {
      const { gateway } = booted;
      const model = fakeModel()
        .respondWithTools([
          {
            name: 'payments_initiate',
            args: { amount: 5, currency: 'GBP', recipient: 'rec_4' },
            id: id('call_session'),
          },
        ])
        .respond(new AIMessage('ok'));
      const agent = gatedAgent(mode, gateway, model, runs);

      await gateway.runInSession('sess_langchain_request', () =>
        agent.invoke({ messages: [new HumanMessage('pay')] }),
      );

      const events = await gateway.audit!.list({});
      expect(events.map((e) => e.sessionId)).toEqual(['sess_langchain_request']);
    });

    it('never runs the tool when the gateway cannot decide, and never shows its URL', async () => {
      const port = await closedPort();
      const remote = await boot({
        // The fixture's embedded policy and audit store cannot go with a remote gateway.
        policy: undefined,
        audit: undefined,
        gatewayUrl: `http://127.0.0.1:${port}`,
        apiKey: 'pk_test_langchainadapter',
      });
      try {
        const model = fakeModel()
          .respondWithTools([
            {
              name: 'payments_initiate',
              args: { amount: 1, currency: 'GBP', recipient: 'rec_5' },
              id: id('call_down'),
            },
          ])
          .respond(new AIMessage('The gateway is away.'));
        const agent = gatedAgent(mode, remote.gateway, model, runs, { actions });

        await agent.invoke({ messages: [new HumanMessage('pay')] });

        expect(runs).toEqual([]);
        const answer = received(model, 1).at(-1) as ToolMessage;
        expect(answer.status).toBe('error');
        const text = JSON.stringify(received(model, 1));
        expect(text).not.toContain(String(port));
        expect(text).not.toContain('127.0.0.1');
        expect(JSON.parse(answer.content as string)).toEqual({
          blocked: true,
          reason:
            'The policy gateway could not decide this call, so the tool did not run. Try again later.',
          eventId: null,
          action: 'payments.initiate',
        });
      } finally {
        await remote.app.close();
      }
    });
  },
);

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
