import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import {
  callOf,
  replicaConfig,
  useReplicas,
  within,
  type ReplicaProcess,
} from '../../fixtures/replica-process';
import { eventCount, eventsByEscalation } from '../../fixtures/replica/audit-sql';

/**
 * Gateway replicas, each a separate node process, on one schema of the
 * shared server and one tenant: a call held by one replica is seen,
 * approved, rejected or expired from another, its caller gets the one
 * recorded answer, and the audit chain all of them wrote verifies from a
 * process that took no part. A, B and C hold for 20 s, D for 1.5 s; V
 * holds and decides nothing (it watches, and verifies at the end).
 */
const TENANT = 'cross';

describeWithPostgres('replicas on PostgreSQL: held calls across processes', () => {
  const db = usePostgres();
  const replicas = useReplicas('file');
  let a: ReplicaProcess;
  let b: ReplicaProcess;
  let c: ReplicaProcess;
  let d: ReplicaProcess;
  let verifier: ReplicaProcess;
  /** The events the tests below caused, counted by the tests themselves. */
  let expectedEvents = 0;

  beforeAll(async () => {
    const long = replicaConfig(TEST_DATABASE_URL, db.schema, TENANT);
    const short = { ...long, escalationTimeoutMs: 1_500 };
    [a, b, c, d, verifier] = await Promise.all([
      replicas.start('A', long),
      replicas.start('B', long),
      replicas.start('C', long),
      replicas.start('D', short),
      replicas.start('V', long),
    ]);
  }, 60_000);

  const kindsOf = async (escalationId: string): Promise<string[]> =>
    ((await eventsByEscalation(db.pool, db.schema, TENANT)).get(escalationId) ?? []).map(
      (event) => event.kind,
    );
  const sawPending = (replica: ReplicaProcess, id: string) =>
    replica.waitForStep(
      (step) => step.type === 'pending' && step.escalationId === id,
      `pending ${id}`,
    );

  it('a call held on A is approved from B: A answers ALLOW once, both see the steps, one ending recorded', async () => {
    const call = a.execute(callOf('payments.send', { amount: 250, to: 'acme' }));
    const escalationId = await within(call.escalated, 10_000, 'escalation on A');
    await sawPending(b, escalationId);
    expect(await b.listPending()).toContain(escalationId);

    expect(await b.decide(escalationId, 'APPROVE', 'reviewer-1', 'looks right')).toEqual({
      ok: true,
    });
    const end = await within(call.ended, 10_000, 'answer on A');
    expect(end).toMatchObject({
      ok: true,
      response: {
        decision: 'ALLOW',
        escalationId,
        actorHumanId: 'reviewer-1',
        escalationOutcome: 'approved',
      },
    });
    expect((await a.waitForEnding(escalationId)).type).toBe('approved');
    expect((await b.waitForEnding(escalationId)).type).toBe('approved');

    // Decided once: a second decision, from either replica, finds nothing to decide.
    expect(await a.decide(escalationId, 'REJECT', 'reviewer-2')).toMatchObject({
      ok: false,
      error: { name: 'EscalationNotFoundError' },
    });
    expect(await b.decide(escalationId, 'APPROVE', 'reviewer-2')).toMatchObject({
      ok: false,
      error: { name: 'EscalationNotFoundError' },
    });

    const events = (await eventsByEscalation(db.pool, db.schema, TENANT)).get(escalationId) ?? [];
    expect(events.map((event) => event.kind)).toEqual([
      'escalation.pending',
      'escalation.approved',
    ]);
    expect(end.ok && end.response.eventId).toBe(events[1].id);
    expect(events[1]).toMatchObject({ decision: 'ALLOW', actor: 'reviewer-1' });
    expect(await a.listPending()).not.toContain(escalationId);
    expect(await a.pending()).not.toContain(escalationId);
    expectedEvents += 2;
  }, 30_000);

  it('a call held on A is rejected from B with the reviewer words; the agent cannot approve itself', async () => {
    const call = a.execute(callOf('payments.send', { amount: 900, to: 'mallory' }));
    const escalationId = await within(call.escalated, 10_000, 'escalation on A');

    const self = await b.decide(escalationId, 'APPROVE', 'replica-agent');
    expect(self).toMatchObject({ ok: false, error: { name: 'ApprovalForbiddenError' } });
    expect(await b.listPending()).toContain(escalationId);

    expect(await b.decide(escalationId, 'REJECT', 'reviewer-1', 'unknown payee')).toEqual({
      ok: true,
    });
    expect(await within(call.ended, 10_000, 'answer on A')).toMatchObject({
      ok: true,
      response: {
        decision: 'BLOCK',
        escalationId,
        actorHumanId: 'reviewer-1',
        approverReason: 'unknown payee',
        escalationOutcome: 'rejected',
      },
    });
    expect((await a.waitForEnding(escalationId)).type).toBe('rejected');
    expect(await kindsOf(escalationId)).toEqual(['escalation.pending', 'escalation.rejected']);
    expectedEvents += 2;
  }, 30_000);

  it('a hold nobody decides expires once at its deadline, and the other replicas learn of it', async () => {
    const calls = [1, 2, 3].map((n) =>
      d.execute(callOf('payments.send', { amount: 100 + n, to: 'late' })),
    );
    const ids = await within(
      Promise.all(calls.map((call) => call.escalated)),
      10_000,
      'holds on D',
    );
    const ends = await within(
      Promise.all(calls.map((call) => call.ended)),
      15_000,
      'expiries on D',
    );
    for (const [i, end] of ends.entries()) {
      expect(end).toMatchObject({
        ok: true,
        response: {
          decision: 'BLOCK',
          escalationId: ids[i],
          escalationOutcome: 'expired',
          actorHumanId: null,
        },
      });
    }
    for (const id of ids) {
      expect((await verifier.waitForEnding(id)).type).toBe('expired');
      expect((await a.waitForEnding(id)).type).toBe('expired');
      expect(await kindsOf(id)).toEqual(['escalation.pending', 'escalation.expired']);
    }
    // Expired means ended: no one can approve it afterwards.
    expect(await verifier.decide(ids[0], 'APPROVE', 'reviewer-1')).toMatchObject({
      ok: false,
      error: { name: 'EscalationNotFoundError' },
    });
    expectedEvents += 6;
  }, 30_000);

  it('three replicas hold, decide and watch each other', async () => {
    const all = [a, b, c];
    // Each replica holds one call; the next one decides it (approve, reject, approve).
    const calls = all.map((holder, i) =>
      holder.execute(callOf('payments.send', { amount: 1000 + i, to: `p${i}` })),
    );
    const ids = await within(Promise.all(calls.map((call) => call.escalated)), 10_000, 'holds');
    for (const replica of all) for (const id of ids) await sawPending(replica, id);
    const verdicts = ['APPROVE', 'REJECT', 'APPROVE'] as const;
    const decided = await Promise.all(
      ids.map((id, i) => all[(i + 1) % 3].decide(id, verdicts[i], `reviewer-${i}`)),
    );
    expect(decided).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    const ends = await within(Promise.all(calls.map((call) => call.ended)), 10_000, 'answers');
    expect(ends.map((end) => end.ok && end.response.decision)).toEqual(['ALLOW', 'BLOCK', 'ALLOW']);
    for (const replica of all) {
      for (const [i, id] of ids.entries()) {
        const ending = verdicts[i] === 'APPROVE' ? 'approved' : 'rejected';
        expect((await replica.waitForEnding(id)).type).toBe(ending);
      }
    }
    expectedEvents += 6;
  }, 30_000);

  it('every caller was answered once, and the one chain verifies from a process that wrote none of it', async () => {
    for (const replica of [a, b, c, d, verifier]) expect(replica.violations).toEqual([]);
    const verification = await verifier.verify();
    expect(verification).toMatchObject({ valid: true, violations: [] });
    expect(verification.eventsChecked).toBe(expectedEvents);
    expect(await eventCount(db.pool, db.schema, TENANT)).toBe(expectedEvents);
  }, 30_000);
});
