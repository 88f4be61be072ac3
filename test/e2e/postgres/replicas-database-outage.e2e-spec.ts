import { Pool } from 'pg';
import {
  describeWithPrivatePostgres,
  usePrivatePostgres,
} from '../../fixtures/private-postgres.fixture';
import { randomSchemaName } from '../../fixtures/postgres.fixture';
import {
  callOf,
  replicaConfig,
  useReplicas,
  type ReplicaProcess,
} from '../../fixtures/replica-process';
import { existingEventIds, until } from '../../fixtures/replica/audit-sql';

/**
 * The database stops under load and comes back (a server of the test's own:
 * the shared one is never stopped). While it is down every gated call fails
 * closed with GatewayError: no ALLOW, no body run, nothing recorded; a held
 * call is not answered and its hold is not lost. Once it is back the same
 * replica processes (not restarted) decide again, the holds end exactly once
 * (the one whose deadline passed during the outage as expired), and every
 * answer given before the outage is still in the chain, which verifies.
 */

type Phase = 'before' | 'down' | 'after';

interface Tally {
  ok: number;
  allows: number;
  failed: number;
  gatewayErrors: number;
  otherErrors: string[];
  /** Calls that ran their body or answered ALLOW although they started while the database was down. */
  allowedWhileDown: number;
}

const emptyTally = (): Tally => ({
  ok: 0,
  allows: 0,
  failed: 0,
  gatewayErrors: 0,
  otherErrors: [],
  allowedWhileDown: 0,
});

/** A steady mix of guarded calls (with a body that counts) and plain calls on one replica. */
class Load {
  readonly tallies: Record<Phase, Tally> = {
    before: emptyTally(),
    down: emptyTally(),
    after: emptyTally(),
  };
  readonly acknowledged: string[] = [];
  allowsReceived = 0;
  private stopped = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly replica: ReplicaProcess,
    private readonly phase: () => Phase,
    workers = 4,
  ) {
    this.running = Promise.all(Array.from({ length: workers }, (_, w) => this.work(w))).then(
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async work(w: number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      const phase = this.phase();
      const tally = this.tallies[phase];
      const parameters = { worker: w, n, phase };
      if (n % 2 === 0) {
        const end = await this.replica.guarded('db.read', `outage-${phase}`, parameters);
        if (end.ok) {
          tally.ok += 1;
          if (end.ran) {
            tally.allows += 1;
            this.allowsReceived += 1;
            if (phase === 'down') tally.allowedWhileDown += 1;
          }
        } else this.failure(tally, end.error);
      } else {
        const end = await this.replica.execute(callOf('db.read', parameters, `outage-${phase}`))
          .ended;
        if (end.ok) {
          tally.ok += 1;
          if (end.response.eventId !== null) this.acknowledged.push(end.response.eventId);
          if (end.response.decision === 'ALLOW') {
            tally.allows += 1;
            this.allowsReceived += 1;
            if (phase === 'down') tally.allowedWhileDown += 1;
          }
        } else this.failure(tally, end.error);
      }
      // Failures come back at once while the database is down: let the event loop breathe.
      if (phase === 'down') await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private failure(tally: Tally, error: { name: string; message: string; kind?: string }): void {
    tally.failed += 1;
    if (error.name === 'GatewayError') tally.gatewayErrors += 1;
    else tally.otherErrors.push(`${error.name}: ${error.message}`);
  }
}

describeWithPrivatePostgres('replicas on PostgreSQL: the database stops and restarts', () => {
  const server = usePrivatePostgres();
  const replicas = useReplicas();
  const schema = randomSchemaName('provenance_outage');
  let pool: Pool;

  beforeAll(() => {
    pool = new Pool({ connectionString: server.url, max: 2 });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end().catch(() => undefined);
  });

  it('fails closed while it is down, loses nothing, and decides again once it is back', async () => {
    const tenant = 'outage';
    const base = replicaConfig(server.url, schema, tenant);
    // A holds for long; B's holds expire during the outage.
    const [a, b] = await Promise.all([
      replicas.start('A', { ...base, escalationTimeoutMs: 30_000 }),
      replicas.start('B', { ...base, escalationTimeoutMs: 2_500 }),
    ]);
    const longCall = a.execute(callOf('payments.send', { amount: 700, to: 'long' }, 'outage-held'));
    const shortCall = b.execute(
      callOf('payments.send', { amount: 800, to: 'short' }, 'outage-held'),
    );
    const [longId, shortId] = await Promise.all([longCall.escalated, shortCall.escalated]);
    const shortDeadline = Date.now() + 2_500;

    let phase: Phase = 'before';
    let shortAnswered = false;
    void shortCall.ended.then(
      () => (shortAnswered = true),
      () => undefined,
    );
    const loads = [new Load(a, () => phase), new Load(b, () => phase)];
    await until(
      () => loads.every((load) => load.tallies.before.ok >= 20),
      '20 answers per replica before the outage',
    );

    await server.stop();
    phase = 'down';
    await until(
      () => loads.every((load) => load.tallies.down.failed >= 20),
      '20 failed calls per replica while the database is down',
    );
    // A decision cannot be recorded now: it fails, and the call stays held.
    const refused = await b.decide(longId, 'APPROVE', 'reviewer-1');
    expect(refused.ok).toBe(false);
    // Let the short hold's deadline pass while the database is away.
    await until(
      () => Date.now() > shortDeadline + 500,
      "the short hold's deadline to pass",
      10_000,
    );
    const answeredWhileDown = shortAnswered;

    phase = 'after';
    await server.start();
    await until(
      () => loads.every((load) => load.tallies.after.ok >= 20),
      '20 answers per replica after the restart',
      20_000,
    );
    await Promise.all(loads.map((load) => load.stop()));

    for (const load of loads) {
      const { down } = load.tallies;
      // Down: every call failed closed, with a GatewayError; none was allowed or ran.
      expect(down).toMatchObject({ ok: 0, allows: 0, allowedWhileDown: 0, otherErrors: [] });
      expect(down.gatewayErrors).toBe(down.failed);
      expect(load.tallies.after.otherErrors).toEqual([]);
    }
    // Its deadline passed while the expiry could not be recorded: it was not answered then.
    expect(answeredWhileDown).toBe(false);

    // The held calls: the short one expired (once), the long one is decided now.
    expect(await shortCall.ended).toMatchObject({
      ok: true,
      response: { decision: 'BLOCK', escalationId: shortId, escalationOutcome: 'expired' },
    });
    expect(await b.decide(longId, 'APPROVE', 'reviewer-1')).toEqual({ ok: true });
    expect(await longCall.ended).toMatchObject({
      ok: true,
      response: { decision: 'ALLOW', escalationId: longId, escalationOutcome: 'approved' },
    });
    const endings = await pool.query<{ escalation_id: string; kind: string }>(
      `SELECT escalation_id, kind FROM "${schema}".audit_events
        WHERE tenant_id = $1 AND escalation_id = ANY($2::text[]) ORDER BY position`,
      [tenant, [longId, shortId]],
    );
    const kindsOf = (id: string) =>
      endings.rows.filter((row) => row.escalation_id === id).map((row) => row.kind);
    expect(kindsOf(shortId)).toEqual(['escalation.pending', 'escalation.expired']);
    expect(kindsOf(longId)).toEqual(['escalation.pending', 'escalation.approved']);

    // Nothing acknowledged was lost; nothing started while down was recorded.
    const acknowledged = loads.flatMap((load) => load.acknowledged);
    const found = await existingEventIds(pool, schema, tenant, acknowledged);
    expect(acknowledged.filter((id) => !found.has(id))).toEqual([]);
    const downEvents = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".audit_events WHERE tenant_id = $1 AND session_id = 'outage-down'`,
      [tenant],
    );
    expect(Number(downEvents.rows[0].n)).toBe(0);

    // Every ALLOW a caller received (and every body that ran) has its ALLOW event.
    const allowEvents = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".audit_events
        WHERE tenant_id = $1 AND action = 'db.read' AND decision = 'ALLOW' AND kind = 'decision'`,
      [tenant],
    );
    const stats = await Promise.all([a.stats(), b.stats()]);
    const allowsReceived = loads.reduce((sum, load) => sum + load.allowsReceived, 0);
    const bodyRuns = stats.reduce((sum, s) => sum + s.bodyRuns, 0);
    const executeAllows = stats.reduce((sum, s) => sum + s.executeAllows, 0);
    // The replicas allowed exactly what the callers received (plus the approved held call).
    expect(bodyRuns + executeAllows).toBe(allowsReceived + 1);
    // An event may be recorded for a call whose answer the outage cut off (at most
    // one per worker in flight when it stopped), never the other way round.
    const recorded = Number(allowEvents.rows[0].n);
    expect(recorded).toBeGreaterThanOrEqual(allowsReceived);
    expect(recorded - allowsReceived).toBeLessThanOrEqual(8);

    const verifier = await replicas.start('V', base);
    expect(await verifier.verify()).toMatchObject({ valid: true, violations: [] });
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
  }, 45_000);
});
