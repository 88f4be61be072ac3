import { randomUUID } from 'node:crypto';
import { normalizedPayloadHash } from '../../../lib/protocol/canonical-json';
import { normalizeParameters } from '../../../lib/protocol/call-parameters';
import { Decision } from '../../../lib/protocol/decision';
import type { GatewayResponse } from '../../../lib/protocol/gateway.types';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';
import {
  AGENT,
  DbProxy,
  TENANT,
  auditOf,
  escalate,
  payment,
  stepOf,
  until,
  useReplicas,
} from './escalation-replicas.fixture';

/**
 * What a replica does when it cannot hear or reach the database: a missed
 * notification only delays an answer (the poll reads the row), a lost
 * listener reconnects, and a database that is down is never an ALLOW.
 */
describeWithPostgres(
  'PostgresEscalationStore: lost notifications and a database that is down',
  () => {
    const db = usePostgres();
    const replicas = useReplicas(db);
    const proxies: DbProxy[] = [];
    afterAll(async () => {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    });
    const newProxy = async (): Promise<DbProxy> => {
      const proxy = new DbProxy();
      await proxy.open();
      proxies.push(proxy);
      return proxy;
    };

    const listenerPids = async (replicaId: string): Promise<number[]> =>
      (
        await db.pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1`,
          [`provenance-escalations ${replicaId}`],
        )
      ).rows.map((row) => row.pid);

    /** Settled yet? Without waiting for it. */
    const watch = (answer: Promise<GatewayResponse>) => {
      const state: { settled: boolean; response?: GatewayResponse } = { settled: false };
      answer.then(
        (response) => Object.assign(state, { settled: true, response }),
        () => (state.settled = true),
      );
      return state;
    };

    /** A few of the replica's poll rounds (200 ms each): time for a wrong answer to show. */
    const somePolls = () => new Promise((resolve) => setTimeout(resolve, 700));

    it("a terminated listener: B's approval still reaches A's waiting call (the poll), and the listener comes back", async () => {
      const a = await replicas.start('A', { pollIntervalMs: 150, listenRetryMs: 4000 });
      const b = await replicas.start('B');
      const [oldPid] = await listenerPids(a.replica.id);
      expect(oldPid).toEqual(expect.any(Number));
      const call = escalate(a.engine, payment(4000));
      const { escalationId } = await call.held;

      const killed = await db.pool.query<{ done: boolean }>(
        `SELECT pg_terminate_backend($1) AS done`,
        [oldPid],
      );
      expect(killed.rows[0].done).toBe(true);
      await until(async () => !a.store.listening, "A noticed its listener's loss");

      await b.engine.decide(escalationId, 'APPROVE', { approverId: 'alice' });
      const answer = await call.answer;
      // Answered while A could not hear the notification: by its poll of the row.
      expect(a.store.listening).toBe(false);
      const [, approved] = await auditOf(db, escalationId);
      expect(answer).toMatchObject({ decision: Decision.ALLOW, eventId: approved.id });

      await a.store.whenListening();
      const pids = await listenerPids(a.replica.id);
      expect(pids).toHaveLength(1);
      expect(pids[0]).not.toBe(oldPid);
      // Listening again: A hears of B's next hold.
      const next = escalate(b.engine, payment(4001));
      const { escalationId: nextId } = await next.held;
      await stepOf(a, (e) => e.type === 'pending' && e.record.id === nextId);
      await b.engine.decide(nextId, 'REJECT', { approverId: 'bob' });
      expect((await next.answer).decision).toBe(Decision.BLOCK);
    });

    it('the database down: a call cannot be held (rejects, never ALLOW), and is held again once it is back', async () => {
      const proxy = await newProxy();
      const a = await replicas.start('A', { connectionString: proxy.connectionString });
      proxy.cut();
      await expect(a.engine.execute(payment(5000))).rejects.toThrow();

      // The store itself, given a call whose pending event is recorded: hold() rejects, onHeld never runs.
      const request = payment(5001);
      const parameters = normalizeParameters(request.action, request.parameters, Infinity);
      let held = false;
      const hold = a.store.hold(
        {
          request,
          parameters,
          timeoutMs: 10_000,
          ticket: {
            escalationId: randomUUID(),
            tenantId: TENANT,
            agentId: AGENT,
            sessionId: request.sessionId,
            action: request.action,
            parameters,
            parametersHash: normalizedPayloadHash(parameters),
            reason: 'test',
          },
        },
        () => (held = true),
      );
      await expect(hold).rejects.toThrow(/cannot read or write the held calls/);
      expect(held).toBe(false);
      expect(a.store.pending()).toEqual([]);

      proxy.restore();
      const call = escalate(a.engine, payment(5002));
      const { escalationId } = await call.held;
      await a.engine.decide(escalationId, 'REJECT', { approverId: 'bob' });
      expect((await call.answer).decision).toBe(Decision.BLOCK);
    });

    it('an approval that cannot be recorded does not answer the waiting call; it stays held for a human', async () => {
      const proxy = await newProxy();
      const a = await replicas.start('A', { connectionString: proxy.connectionString });
      const b = await replicas.start('B');
      const call = escalate(a.engine, payment(6000));
      const { escalationId } = await call.held;
      const state = watch(call.answer);

      proxy.cut();
      await expect(
        a.engine.decide(escalationId, 'APPROVE', { approverId: 'alice' }),
      ).rejects.toThrow();
      await somePolls();
      expect(state.settled).toBe(false);
      expect((await auditOf(db, escalationId)).map((e) => e.kind)).toEqual(['escalation.pending']);

      // Still pending for everyone else; a rejection elsewhere is what A answers once it is back.
      expect((await b.engine.listPending()).map((record) => record.id)).toEqual([escalationId]);
      await b.engine.decide(escalationId, 'REJECT', { approverId: 'bob' });
      await somePolls();
      expect(state.settled).toBe(false);
      proxy.restore();
      const answer = await call.answer;
      const events = await auditOf(db, escalationId);
      expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.rejected']);
      expect(answer).toMatchObject({ decision: Decision.BLOCK, eventId: events[1].id });
    });

    it('a deadline that passes while the database is down is recorded once it is back', async () => {
      const proxy = await newProxy();
      const a = await replicas.start('A', {
        connectionString: proxy.connectionString,
        escalationTimeoutMs: 400,
        staleAfterMs: 60_000,
      });
      const call = escalate(a.engine, payment(7000));
      const { escalationId } = await call.held;
      const state = watch(call.answer);
      proxy.cut();
      await somePolls();
      expect(state.settled).toBe(false);
      proxy.restore();
      const answer = await call.answer;
      const events = await auditOf(db, escalationId);
      expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
      expect(answer).toMatchObject({ decision: Decision.BLOCK, escalationOutcome: 'expired' });
    });
  },
);
