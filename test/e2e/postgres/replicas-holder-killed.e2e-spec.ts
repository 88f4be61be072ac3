import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import { callOf, replicaConfig, useReplicas, type CallEnd } from '../../fixtures/replica-process';
import { eventsByEscalation, existingEventIds, until } from '../../fixtures/replica/audit-sql';

/**
 * kill -9 of the replica that holds calls for a human, mid-load. Its holds
 * are not lost: each still ends exactly once, at its deadline, ended by the
 * live replica's sweeper; an approval of one of them after the holder died
 * has no caller to answer, so it becomes a single-use grant for that
 * identical call, used once on the live replica. Every answer the killed
 * replica gave before it died is in the chain, and the chain verifies.
 */
const HOLD_MS = 8_000;

describeWithPostgres('replicas on PostgreSQL: the holder is killed', () => {
  const db = usePostgres();
  const replicas = useReplicas();

  it('holds outlive their holder: ended once at the deadline, an approval becomes a single-use grant', async () => {
    const tenant = 'killed-holder';
    const config = replicaConfig(TEST_DATABASE_URL, db.schema, tenant, {
      escalationTimeoutMs: HOLD_MS,
      heartbeatMs: 200,
      staleAfterMs: 1_000,
      sweepIntervalMs: 200,
    });
    const [a, b] = await Promise.all([replicas.start('A', config), replicas.start('B', config)]);

    const held = [0, 1, 2, 3, 4].map((n) => ({
      request: callOf(
        'payments.send',
        { amount: 500 + n, to: `vendor-${n}` },
        'killed-session',
        'payer',
      ),
    }));
    const heldCalls = held.map(({ request }) => a.execute(request));
    const ids = await Promise.all(heldCalls.map((call) => call.escalated));
    for (const id of ids) await b.waitForStep((s) => s.type === 'pending' && s.escalationId === id);
    const holders = await db.pool.query<{ holder: string }>(
      `SELECT DISTINCT holder FROM "${db.schema}".escalations WHERE id = ANY($1::text[])`,
      [ids],
    );
    expect(holders.rows.map((row) => row.holder)).toEqual([a.replicaId]);

    // A steady load of decided calls on A; it is killed in the middle of it.
    const acknowledged: string[] = [];
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let n = 0; !stop; n++) {
        let end: CallEnd;
        try {
          end = await a.execute(callOf('db.read', { worker: w, n }, 'killed-load')).ended;
        } catch {
          return; // A died with this call in flight: it was never answered.
        }
        if (end.ok && end.response.eventId !== null) acknowledged.push(end.response.eventId);
      }
    };
    const load = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(worker));
    await until(() => acknowledged.length >= 100, '100 answers on A before the kill');
    await a.kill();
    stop = true;
    await load;
    for (const call of heldCalls) await expect(call.ended).rejects.toThrow(/exited/);

    // Every answer A gave was recorded before it was given.
    const found = await existingEventIds(db.pool, db.schema, tenant, acknowledged);
    expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);

    // Once A's heartbeat is stale, B's approval has no caller to answer: a single-use grant.
    await until(async () => {
      const { rows } = await db.pool.query<{ stale: boolean }>(
        `SELECT heartbeat_at < now() - interval '1000 milliseconds' AS stale FROM "${db.schema}".replicas WHERE id = $1`,
        [a.replicaId],
      );
      return rows.length === 0 || rows[0].stale;
    }, "A's heartbeat to go stale");
    expect(await b.decide(ids[0], 'APPROVE', 'reviewer-1', 'after the crash')).toEqual({
      ok: true,
    });
    const grants = await b.grants();
    const retry = grants.filter((grant) => grant.escalationId === ids[0]);
    expect(retry).toHaveLength(1);
    expect(retry[0]).toMatchObject({
      maxUses: 1,
      uses: 0,
      grantedBy: 'reviewer-1',
      action: 'payments.send',
    });

    // The identical call, on B, runs once on the grant; the same call again is held anew.
    const retried = await b.execute(held[0].request).ended;
    expect(retried).toMatchObject({
      ok: true,
      response: { decision: 'ALLOW', escalationId: ids[0] },
    });
    const again = b.execute(held[0].request);
    const againId = await again.escalated;
    expect(againId).not.toBe(ids[0]);
    expect(await b.decide(againId, 'REJECT', 'reviewer-1')).toEqual({ ok: true });
    expect(await again.ended).toMatchObject({ ok: true, response: { decision: 'BLOCK' } });

    // The others end at their deadline, ended by B (A is dead), exactly once each.
    for (const id of ids.slice(1)) expect((await b.waitForEnding(id)).type).toBe('expired');
    const events = await eventsByEscalation(db.pool, db.schema, tenant);
    expect(events.get(ids[0])?.map((e) => e.kind)).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
      'grant.used',
    ]);
    for (const id of ids.slice(1)) {
      expect({ id, kinds: events.get(id)?.map((e) => e.kind) }).toEqual({
        id,
        kinds: ['escalation.pending', 'escalation.expired'],
      });
    }
    const rows = await db.pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM "${db.schema}".escalations WHERE id = ANY($1::text[]) GROUP BY status`,
      [ids],
    );
    expect(Object.fromEntries(rows.rows.map((row) => [row.status, Number(row.n)]))).toEqual({
      APPROVED: 1,
      TIMEOUT: 4,
    });
    expect((await b.grants()).filter((grant) => grant.escalationId === ids[0])).toEqual([]);

    const verifier = await replicas.start('V', config);
    expect(await verifier.verify()).toMatchObject({ valid: true, violations: [] });
    expect(b.violations).toEqual([]);
  }, 40_000);
});
