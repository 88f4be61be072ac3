import type { INestApplicationContext } from '@nestjs/common';
import { run, RunState } from '@openai/agents';
import { ProvenanceGateway, ProvenanceReviewer } from '../../../../lib';
import { agentToolEscalationId } from '../../../../lib/adapters/openai-agents';
import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../../fixtures/postgres.fixture';
import { until } from '../../../fixtures/replica/audit-sql';
import { bootAgentApp, PaymentsAgent } from './agent-app.fixture';
import { assistantMessage, functionCall, toolOutputsIn } from './scripted-model';

const BIG = '{"amount":800,"currency":"GBP"}';
const deferred = { approvals: 'deferred' } as const;

interface Replica {
  app: INestApplicationContext;
  gateway: ProvenanceGateway;
  reviewer: ProvenanceReviewer;
  payments: PaymentsAgent;
}

async function replica(schema: string): Promise<Replica> {
  const postgres = { connectionString: TEST_DATABASE_URL, schema };
  const app = await bootAgentApp({ postgres, audit: undefined } as never);
  return {
    app,
    gateway: app.get(ProvenanceGateway),
    reviewer: app.get(ProvenanceReviewer),
    payments: app.get(PaymentsAgent),
  };
}

/** The run interrupted on A, as B reads it back from the text A stored. */
async function interruptedOnA(a: Replica, b: Replica, callId: string, next: string) {
  const modelA = a.payments.model([[functionCall(callId, 'payments_initiate', BIG)]]);
  const first = await run(a.payments.agent(modelA, deferred), 'Pay 800');
  expect(first.interruptions).toHaveLength(1);
  const text = first.state.toString();
  const modelB = b.payments.model([[assistantMessage(next)]]);
  const agentB = b.payments.agent(modelB, deferred);
  const state = await RunState.fromString(agentB, text);
  const [interruption] = state.getInterruptions();
  return { agentB, modelB, state, interruption };
}

describeWithPostgres(
  "guardAgentTools with approvals: 'deferred' on two replicas of one PostgreSQL",
  () => {
    const db = usePostgres();
    let a: Replica;
    let b: Replica;

    beforeEach(async () => {
      const schema = db.newSchemaName();
      a = await replica(schema);
      b = await replica(schema);
    });
    afterEach(async () => {
      await b.app.close();
      await a.app.close();
    });

    it('runs on B, once, the call interrupted on A and approved on B by alice, under the grant for exactly that call', async () => {
      const { agentB, modelB, state, interruption } = await interruptedOnA(
        a,
        b,
        'call_r_ok',
        'paid',
      );
      const [pending] = await b.reviewer.pending();
      expect(pending).toMatchObject({ action: 'payments.initiate', agentId: 'agent-openai' });
      expect(pending.parameters).toEqual({ amount: 800, currency: 'GBP' });
      // B never asked for this call: it finds it among the pending ones.
      expect(agentToolEscalationId(interruption)).toBeNull();

      const outcome = await b.payments.approve(state, interruption, { id: 'alice' });
      expect(outcome).toMatchObject({ escalationId: pending.id, approverId: 'alice' });
      const resumed = await run(agentB, state);

      expect(resumed.interruptions).toEqual([]);
      expect(resumed.finalOutput).toBe('paid');
      expect(a.payments.runs).toEqual([]);
      expect(b.payments.runs).toEqual([
        { tool: 'payments_initiate', input: { amount: 800, currency: 'GBP' }, approvedBy: 'alice' },
      ]);
      const read = JSON.parse(toolOutputsIn(modelB.requests[0]).get('call_r_ok')!);
      expect(read).toEqual({ paid: 800, currency: 'GBP', approvedBy: 'alice' });
      const events = await b.gateway.audit!.list({ escalationId: pending.id });
      expect(events.map((e) => e.kind)).toEqual([
        'escalation.pending',
        'grant.created',
        'escalation.approved',
        'grant.used',
      ]);
      expect(events[3]).toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
      for (const event of [events[0], events[3]]) {
        expect(JSON.stringify(event.parameters)).toBe(BIG);
      }
      // The grant was single-use: the same state resumed again runs nothing more.
      expect(await b.reviewer.pending()).toEqual([]);
    }, 30_000);

    it('refuses on B the call no reviewer approved (the SDK state alone): not held, never run, its new escalation withdrawn', async () => {
      const { agentB, modelB, state, interruption } = await interruptedOnA(
        a,
        b,
        'call_r_no',
        'not paid',
      );
      const [asked] = await b.reviewer.pending();
      state.approve(interruption);

      const resumed = await run(agentB, state);

      expect(resumed.finalOutput).toBe('not paid');
      expect(a.payments.runs).toEqual([]);
      expect(b.payments.runs).toEqual([]);
      const read = JSON.parse(toolOutputsIn(modelB.requests[0]).get('call_r_no')!);
      expect(read).toMatchObject({ blocked: true, action: 'payments.initiate' });
      expect(read.reason).toContain('no reviewer approved this call');
      // The withdrawal is recorded in PostgreSQL as the resumed call gives up on it.
      const withdrawnEvents = () => b.gateway.audit!.list({ kind: 'escalation.withdrawn' });
      await until(async () => (await withdrawnEvents()).length > 0, 'the withdrawn escalation');
      const withdrawn = await withdrawnEvents();
      expect(withdrawn.map((e) => e.escalationId)).toEqual([read.escalationId]);
      expect(read.escalationId).not.toBe(asked.id);
      // A's escalation still waits for a reviewer; the resumed one is gone.
      expect((await a.reviewer.pending()).map((e) => e.id)).toEqual([asked.id]);
    }, 30_000);
  },
);
