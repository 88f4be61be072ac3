/**
 * An engine built by createPostgresEngine registers its replica before it
 * claims an idempotency key: a claim whose holder has no row in `replicas`
 * looks abandoned, and another replica would decide the same call again.
 */
import { Decision } from '../../../lib/protocol/decision';
import type { GatewayRequest } from '../../../lib/protocol/gateway.types';
import { createPostgresEngine } from '../../../lib/postgres/postgres-engine';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

describeWithPostgres('idempotency keys through createPostgresEngine', () => {
  const db = usePostgres();
  const policy = {
    name: 'keys',
    rules: [{ action: 'notes.write', on_match: 'ALLOW' as const, reason: 'fine' }],
  };

  it('a key claimed before anything else started is held by a registered replica, and the other replica replays it', async () => {
    const engineOn = () =>
      createPostgresEngine({
        policy,
        tenantId: 'keys',
        postgres: { pool: db.newPool(), schema: db.schema },
      });
    const a = engineOn();
    const b = engineOn();
    try {
      const request: GatewayRequest = {
        sessionId: 'session-1',
        agentId: 'agent-1',
        action: 'notes.write',
        parameters: { text: 'hello' },
        decision: Decision.ALLOW,
        idempotencyKey: 'key-1',
      };
      // Nothing was started on `a`: the keyed call is its first use of the database.
      const first = await a.engine.execute(request);
      expect(first.decision).toBe('ALLOW');
      const holder = await db.pool.query<{ holder: string; alive: boolean }>(
        `SELECT k.holder, EXISTS (SELECT 1 FROM "${db.schema}".replicas r WHERE r.id = k.holder) AS alive
           FROM "${db.schema}".idempotency_keys k WHERE k.key = 'key-1'`,
      );
      expect(holder.rows).toEqual([{ holder: a.replica.id, alive: true }]);

      const replayed = await b.engine.execute(request);
      expect(replayed.eventId).toBe(first.eventId);
      const decisions = await db.pool.query<{ kind: string; n: number }>(
        `SELECT kind, count(*)::int AS n FROM "${db.schema}".audit_events GROUP BY kind ORDER BY kind`,
      );
      expect(decisions.rows).toEqual([
        { kind: 'decision', n: 1 },
        { kind: 'decision.replayed', n: 1 },
      ]);
    } finally {
      await Promise.all([a.engine.close(), b.engine.close()]);
    }
  });
});
