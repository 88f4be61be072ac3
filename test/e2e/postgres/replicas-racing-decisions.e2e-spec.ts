import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import { callOf, replicaConfig, useReplicas, type CallEnd } from '../../fixtures/replica-process';
import { countByKind, ENDING_KINDS, eventsByEscalation } from '../../fixtures/replica/audit-sql';

/**
 * 1000 calls held across three replica processes, each decided twice at
 * once from the two other replicas (one approves, one rejects): exactly one
 * decision wins per call, every caller is answered exactly once with the
 * winner's verdict, the chain holds exactly one ending per escalation, and
 * it verifies from a fourth process.
 */
const CALLS = 1000;
/**
 * How many calls are raced at once (two decisions each): all of them. 2000
 * transactions then queue in the replicas' pools; a heartbeat that waited
 * behind them (before it had a connection of its own) outlived staleAfterMs,
 * the replicas looked dead to each other, and approvals of calls whose
 * callers still waited became single-use grants.
 */
const RACE_WINDOW = Number(process.env.RACE_WINDOW ?? CALLS);

describeWithPostgres('replicas on PostgreSQL: racing decisions from different replicas', () => {
  const db = usePostgres();
  const replicas = useReplicas();

  it('1000 holds, 2000 racing decisions: one winner each, one answer each, one ending each', async () => {
    const tenant = 'racing';
    const config = replicaConfig(TEST_DATABASE_URL, db.schema, tenant, {
      escalationTimeoutMs: 60_000,
    });
    // V holds and decides nothing: it verifies the chain the others wrote.
    const [a, b, c, verifier] = await Promise.all(
      ['A', 'B', 'C', 'V'].map((name) => replicas.start(name, config)),
    );
    const all = [a, b, c];

    const calls = Array.from({ length: CALLS }, (_, i) =>
      all[i % 3].execute(
        callOf('payments.send', { amount: i, to: `payee-${i}` }, `session-${i % 17}`),
      ),
    );
    const ids = await Promise.all(calls.map((call) => call.escalated));
    expect(new Set(ids).size).toBe(CALLS);
    const pendingInDb = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${db.schema}".escalations WHERE tenant_id = $1 AND status = 'PENDING'`,
      [tenant],
    );
    expect(Number(pendingInDb.rows[0].n)).toBe(CALLS);

    // Call i is held on replica i % 3; the two others decide it at the same time,
    // the approver first for even calls and the rejecter first for odd ones.
    // RACE_WINDOW calls are raced at once (see RACE_WINDOW).
    const race = (i: number) => {
      const id = ids[i];
      const approve = () => all[(i + 1) % 3].decide(id, 'APPROVE', 'alice', `ok ${i}`);
      const reject = () => all[(i + 2) % 3].decide(id, 'REJECT', 'bob', `no ${i}`);
      if (i % 2 === 0) {
        const approved = approve();
        return Promise.all([approved, reject()]);
      }
      const rejected = reject();
      return Promise.all([approve(), rejected]);
    };
    const results: Array<Awaited<ReturnType<typeof race>>> = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: RACE_WINDOW }, async () => {
        while (next < CALLS) {
          const i = next++;
          results[i] = await race(i);
        }
      }),
    );
    const ends: CallEnd[] = await Promise.all(calls.map((call) => call.ended));

    let approvals = 0;
    for (const [i, [approved, rejected]] of results.entries()) {
      const winners = [approved.ok, rejected.ok].filter(Boolean).length;
      expect({ call: i, winners }).toEqual({ call: i, winners: 1 });
      const loser = approved.ok ? rejected : approved;
      expect(loser).toMatchObject({ ok: false, error: { name: 'EscalationNotFoundError' } });
      const end = ends[i];
      if (!end.ok) throw new Error(`call ${i} failed: ${end.error.name}: ${end.error.message}`);
      expect(end.response).toMatchObject(
        approved.ok
          ? {
              decision: 'ALLOW',
              actorHumanId: 'alice',
              escalationOutcome: 'approved',
              escalationId: ids[i],
            }
          : {
              decision: 'BLOCK',
              actorHumanId: 'bob',
              escalationOutcome: 'rejected',
              escalationId: ids[i],
            },
      );
      if (approved.ok) approvals += 1;
    }
    for (const replica of all) expect(replica.violations).toEqual([]);

    // The chain: one pending event and exactly one ending per escalation, the winner's.
    const byEscalation = await eventsByEscalation(db.pool, db.schema, tenant);
    expect(byEscalation.size).toBe(CALLS);
    for (const [i, id] of ids.entries()) {
      const kinds = (byEscalation.get(id) ?? []).map((event) => event.kind);
      const ending = results[i][0].ok ? 'escalation.approved' : 'escalation.rejected';
      expect({ id, kinds }).toEqual({ id, kinds: ['escalation.pending', ending] });
      const end = ends[i];
      expect(end.ok && end.response.eventId).toBe(byEscalation.get(id)?.[1].id);
    }
    const kinds = await countByKind(db.pool, db.schema, tenant);
    expect(kinds['escalation.pending']).toBe(CALLS);
    expect(ENDING_KINDS.reduce((sum, kind) => sum + (kinds[kind] ?? 0), 0)).toBe(CALLS);
    expect(kinds['escalation.approved'] ?? 0).toBe(approvals);
    expect(kinds['escalation.rejected'] ?? 0).toBe(CALLS - approvals);

    const verification = await verifier.verify();
    expect(verification).toMatchObject({ valid: true, violations: [] });
    expect(verification.eventsChecked).toBe(2 * CALLS);
  }, 60_000);
});
