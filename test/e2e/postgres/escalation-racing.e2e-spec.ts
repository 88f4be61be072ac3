import { Decision } from '../../../lib/protocol/decision';
import { EscalationNotFoundError } from '../../../lib/protocol/provenance.errors';
import type { ReviewVerdict } from '../../../lib/protocol/gateway.types';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';
import {
  TENANT,
  engineWithTimeout,
  escalate,
  payment,
  stepsFor,
  until,
  useReplicas,
  type TestReplica,
} from './escalation-replicas.fixture';

const HELD = 210;
/** The first DECIDED are raced by B (approve) and C (reject); the rest expire on A's timers meanwhile. */
const DECIDED = 200;

describeWithPostgres('PostgresEscalationStore: exactly one ending across replicas', () => {
  const db = usePostgres();
  const replicas = useReplicas(db);

  it(`${HELD} holds on A, approvals on B racing rejections on C, the rest expiring: each ends once`, async () => {
    const a = await replicas.start('A', { escalationTimeoutMs: 25_000 });
    const b = await replicas.start('B');
    const c = await replicas.start('C');
    const expiring = engineWithTimeout(a, 1500);
    const calls = Array.from({ length: HELD }, (_, i) =>
      escalate(i < DECIDED ? a.engine : expiring, payment(1000 + i, `session-${i}`)),
    );
    const ids = (await Promise.all(calls.map((call) => call.held))).map((t) => t.escalationId);
    expect(new Set(ids).size).toBe(HELD);

    const attempt = (r: TestReplica, id: string, verdict: ReviewVerdict) =>
      r.engine.decide(id, verdict, { approverId: `reviewer-${r.name}` }).then(
        () => 'won' as const,
        (error: unknown) => {
          if (error instanceof EscalationNotFoundError) return 'lost' as const;
          throw error;
        },
      );
    const races = await Promise.all(
      ids
        .slice(0, DECIDED)
        .map((id) => Promise.all([attempt(b, id, 'APPROVE'), attempt(c, id, 'REJECT')])),
    );
    const answers = await Promise.all(calls.map((call) => call.answer));

    // One ending event per escalation in the chain, whoever ended it.
    const endings = await db.pool.query<{ escalation_id: string; kind: string; id: string }>(
      `SELECT escalation_id, kind, id FROM "${db.schema}".audit_events
        WHERE tenant_id = $1 AND kind IN
          ('escalation.approved', 'escalation.rejected', 'escalation.expired', 'escalation.withdrawn')`,
      [TENANT],
    );
    expect(endings.rows).toHaveLength(HELD);
    const endingOf = new Map(endings.rows.map((row) => [row.escalation_id, row]));
    expect(endingOf.size).toBe(HELD);
    const pendings = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${db.schema}".audit_events
        WHERE tenant_id = $1 AND kind = 'escalation.pending'`,
      [TENANT],
    );
    expect(Number(pendings.rows[0].n)).toBe(HELD);

    const kinds = { approved: 0, rejected: 0, expired: 0 };
    ids.forEach((id, index) => {
      const ending = endingOf.get(id)!;
      const kind = ending.kind.replace('escalation.', '') as keyof typeof kinds;
      kinds[kind]++;
      // The caller got the answer of the one recorded ending.
      expect(answers[index]).toMatchObject({
        eventId: ending.id,
        escalationId: id,
        escalationOutcome: kind,
        decision: kind === 'approved' ? Decision.ALLOW : Decision.BLOCK,
      });
      if (index >= DECIDED) {
        expect(kind).toBe('expired');
        return;
      }
      // The winner's decide resolved, the loser's threw EscalationNotFoundError.
      const [approve, reject] = races[index];
      expect(kind === 'approved' || kind === 'rejected').toBe(true);
      expect([approve, reject]).toEqual(kind === 'approved' ? ['won', 'lost'] : ['lost', 'won']);
    });
    // The race was real: both reviewers won some.
    expect(kinds.approved).toBeGreaterThan(0);
    expect(kinds.rejected).toBeGreaterThan(0);
    expect(kinds.expired).toBe(HELD - DECIDED);

    // Every replica announced pending then exactly one ending, for each.
    for (const r of [a, b, c]) {
      await until(
        async () => ids.every((id) => stepsFor(r, id).length === 2),
        `${r.name} saw every ending`,
      );
      ids.forEach((id) =>
        expect(stepsFor(r, id)).toEqual([
          'pending',
          endingOf.get(id)!.kind.replace('escalation.', ''),
        ]),
      );
    }
    const rows = await db.pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM "${db.schema}".escalations GROUP BY status ORDER BY status`,
    );
    expect(Object.fromEntries(rows.rows.map((row) => [row.status, Number(row.n)]))).toEqual(
      Object.fromEntries(
        [
          ['APPROVED', kinds.approved],
          ['REJECTED', kinds.rejected],
          ['TIMEOUT', kinds.expired],
        ].filter(([, n]) => (n as number) > 0),
      ),
    );
    const verification = await b.engine.verify();
    expect(verification.valid).toBe(true);
    expect(verification.eventsChecked).toBe(2 * HELD);
  });
});
