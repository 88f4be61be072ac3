import { generateText, stepCountIs, type ModelMessage, type ToolSet } from 'ai';
import { recordToolApprovals } from '../../../../lib/adapters/ai';
import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../../fixtures/postgres.fixture';
import { bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel } from './scripted-model';

const big = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };
type Chat = ModelMessage[];

/** The next chat request's body, as the server parses it, with the user's answer to every approval request. */
function answered(chat: Chat, approved: boolean): Chat {
  const responses = chat.flatMap((message) =>
    message.role === 'assistant' && typeof message.content !== 'string'
      ? message.content.flatMap((part) =>
          part.type === 'tool-approval-request'
            ? [{ type: 'tool-approval-response' as const, approvalId: part.approvalId, approved }]
            : [],
        )
      : [],
  );
  return JSON.parse(JSON.stringify([...chat, { role: 'tool', content: responses }])) as Chat;
}

async function request(model: ScriptedModel, messages: Chat, tools: ToolSet) {
  const result = await generateText({
    model: model.model,
    tools,
    stopWhen: stepCountIs(5),
    messages,
  });
  return [...messages, ...result.response.messages] as Chat;
}

describeWithPostgres(
  'nestjs-provenance/ai deferred approvals on two replicas of one PostgreSQL',
  () => {
    const db = usePostgres();

    it('runs on replica B the call replica A asked for, approved on B by alice, under the grant for exactly that call', async () => {
      const schema = db.newSchemaName();
      const postgres = { connectionString: TEST_DATABASE_URL, schema };
      const a = await bootAiApp({ postgres, audit: undefined });
      const b = await bootAiApp({ postgres, audit: undefined });
      try {
        const model = new ScriptedModel([
          { calls: [{ toolName: 'payments_initiate', input: big }] },
          { text: 'Paid Carol.' },
        ]);
        const first = await request(model, [{ role: 'user', content: 'Pay Carol' }], deferred(a));
        expect(a.runs).toEqual([]);

        const [pending] = await b.reviewer.pending();
        expect(pending).toMatchObject({ action: 'payments.initiate', parameters: big });
        const resumed = answered(first, true);
        const toolsB = deferred(b);
        const [outcome] = await recordToolApprovals(b.reviewer, resumed, {
          approverId: 'alice',
          tools: toolsB,
        });
        expect(outcome).toMatchObject({ outcome: 'approved', escalationId: pending.id });

        const result = await generateText({
          model: model.model,
          tools: toolsB,
          stopWhen: stepCountIs(5),
          messages: resumed,
        });
        expect(result.text).toBe('Paid Carol.');
        expect(a.runs).toEqual([]);
        expect(b.runs.map((r) => [r.input, r.approvedBy])).toEqual([[big, 'alice']]);
        const events = await b.gateway.audit!.list({ escalationId: outcome.escalationId! });
        expect(events.map((e) => e.kind)).toEqual([
          'escalation.pending',
          'grant.created',
          'escalation.approved',
          'grant.used',
        ]);
        // The call's own events (asked on A, run on B) record exactly the tool input.
        const calls = [events[0], events[3]];
        expect(events[3]).toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
        for (const event of calls) {
          expect(JSON.stringify(event.parameters)).toBe(
            '{"amount":2500,"currency":"GBP","recipient":"rec_carol"}',
          );
        }
      } finally {
        await b.app.close();
        await a.app.close();
      }
    }, 30_000);
  },
);

function deferred(app: AiApp): ToolSet {
  return app.agent.tools({ approvals: 'deferred' }) as ToolSet;
}
