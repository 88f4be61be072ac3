import { Decision } from '../../../lib/protocol/decision';
import {
  ApprovalForbiddenError,
  EscalationNotFoundError,
} from '../../../lib/protocol/provenance.errors';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';
import {
  AGENT,
  auditOf,
  escalate,
  payment,
  stepOf,
  stepsFor,
  until,
  useReplicas,
} from './escalation-replicas.fixture';

/**
 * Held calls shared by replicas (PostgresEscalationStore): three engines in
 * this process, each with its own pool, replica and stores, one schema.
 */
describeWithPostgres('PostgresEscalationStore across replicas', () => {
  const db = usePostgres();
  const replicas = useReplicas(db);

  const rowOf = async (id: string) =>
    (
      await db.pool.query<{ status: string; holder: string; outcome_event_id: string | null }>(
        `SELECT status, holder, outcome_event_id FROM "${db.schema}".escalations WHERE id = $1`,
        [id],
      )
    ).rows[0];

  it("B lists and reads what A holds; B's approval answers A's waiting call with ALLOW and the approval's event", async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B');
    const call = escalate(a.engine, payment(500));
    const ticket = await call.held;

    const listed = await b.engine.listPending();
    expect(listed.map((record) => record.id)).toEqual([ticket.escalationId]);
    expect(listed[0]).toMatchObject({
      status: 'PENDING',
      agentId: AGENT,
      action: 'payments.initiate',
      reason: 'Payments over 100 need a human',
      parameters: { amount: 500, currency: 'EUR', to: 'acct-500' },
      approverId: null,
    });
    expect(await b.engine.escalation(ticket.escalationId)).toEqual(listed[0]);
    // B learns of the hold through the notification: its own mirror.
    await stepOf(b, (e) => e.type === 'pending' && e.record.id === ticket.escalationId);
    expect(b.engine.pending().map((record) => record.id)).toEqual([ticket.escalationId]);
    expect((await rowOf(ticket.escalationId)).holder).toBe(a.replica.id);

    await b.engine.decide(ticket.escalationId, 'APPROVE', { approverId: 'alice', reason: 'ok' });
    const answer = await call.answer;
    const events = await auditOf(db, ticket.escalationId);
    expect(events.map((event) => event.kind)).toEqual([
      'escalation.pending',
      'escalation.approved',
    ]);
    expect(answer).toMatchObject({
      decision: Decision.ALLOW,
      eventId: events[1].id,
      escalationId: ticket.escalationId,
      actorHumanId: 'alice',
      approverReason: 'ok',
      escalationOutcome: 'approved',
    });
    expect((await rowOf(ticket.escalationId)).outcome_event_id).toBe(events[1].id);

    // Each replica announced pending, then exactly one ending.
    await stepOf(b, (e) => e.type === 'approved' && e.record.id === ticket.escalationId);
    expect(stepsFor(a, ticket.escalationId)).toEqual(['pending', 'approved']);
    expect(stepsFor(b, ticket.escalationId)).toEqual(['pending', 'approved']);
    const approved = a.events.find((e) => e.type === 'approved')!.record;
    expect(approved).toMatchObject({ status: 'APPROVED', approverId: 'alice', reason: 'ok' });
    expect(a.engine.pending()).toEqual([]);
    expect(b.engine.pending()).toEqual([]);
    expect(await b.engine.listPending()).toEqual([]);
    expect(await a.engine.escalation(ticket.escalationId)).toMatchObject({
      status: 'APPROVED',
      approverId: 'alice',
    });
    await expect(
      a.engine.decide(ticket.escalationId, 'REJECT', { approverId: 'bob' }),
    ).rejects.toBeInstanceOf(EscalationNotFoundError);
    expect((await a.engine.verify()).valid).toBe(true);
  });

  it("a rejection on B blocks A's call; a third replica's listener sees pending then rejected", async () => {
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((name) => replicas.start(name)));
    const call = escalate(a.engine, payment(700));
    const { escalationId } = await call.held;
    await stepOf(c, (e) => e.type === 'pending' && e.record.id === escalationId);
    await b.engine.decide(escalationId, 'REJECT', { approverId: 'bob', reason: 'too much' });
    const answer = await call.answer;
    const [, rejected] = await auditOf(db, escalationId);
    expect(rejected.kind).toBe('escalation.rejected');
    expect(answer).toMatchObject({
      decision: Decision.BLOCK,
      eventId: rejected.id,
      approverReason: 'too much',
      escalationOutcome: 'rejected',
    });
    await stepOf(c, (e) => e.type === 'rejected' && e.record.id === escalationId);
    for (const r of [a, b, c]) expect(stepsFor(r, escalationId)).toEqual(['pending', 'rejected']);
  });

  it('the agent cannot approve its own call on another replica, and nothing changes', async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B');
    const call = escalate(a.engine, payment(800));
    const { escalationId } = await call.held;
    let settled = false;
    void call.answer.then(() => (settled = true));
    await expect(
      b.engine.decide(escalationId, 'APPROVE', { approverId: AGENT }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    expect((await rowOf(escalationId)).status).toBe('PENDING');
    expect((await auditOf(db, escalationId)).map((e) => e.kind)).toEqual(['escalation.pending']);
    expect(settled).toBe(false);
    // The agent may still reject its own call (four eyes guard approvals only), here someone else does.
    await b.engine.decide(escalationId, 'APPROVE', { approverId: 'carol' });
    expect((await call.answer).decision).toBe(Decision.ALLOW);
  });

  it('a deadline that passes ends the hold: BLOCK expired, recorded once, seen by B', async () => {
    const a = await replicas.start('A', { escalationTimeoutMs: 300 });
    const b = await replicas.start('B');
    const call = escalate(a.engine, payment(900));
    const { escalationId } = await call.held;
    const answer = await call.answer;
    const events = await auditOf(db, escalationId);
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
    expect(answer).toMatchObject({
      decision: Decision.BLOCK,
      eventId: events[1].id,
      escalationOutcome: 'expired',
      approverReason: null,
    });
    await stepOf(b, (e) => e.type === 'expired' && e.record.id === escalationId);
    expect(stepsFor(b, escalationId)).toEqual(['pending', 'expired']);
    expect((await rowOf(escalationId)).status).toBe('TIMEOUT');
  });

  it('withdraw ends the hold as withdrawn; detach leaves it for a human', async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B');
    const withdrawn = escalate(a.engine, payment(1001));
    const first = await withdrawn.held;
    expect(await a.engine.withdraw(first.escalationId)).toBe(true);
    expect(await a.engine.withdraw(first.escalationId)).toBe(false);
    expect(await withdrawn.answer).toMatchObject({
      decision: Decision.BLOCK,
      escalationOutcome: 'withdrawn',
    });
    const detached = escalate(a.engine, payment(1002));
    const second = await detached.held;
    expect(await a.engine.detach(second.escalationId)).toBe(true);
    expect(await b.engine.listPending()).toHaveLength(1);
    await b.engine.decide(second.escalationId, 'REJECT', { approverId: 'bob' });
    expect(await a.engine.detach(second.escalationId)).toBe(false);
    expect((await detached.answer).decision).toBe(Decision.BLOCK);
  });

  it("close(): the replica's own holds end as expired 'gateway closed' (recorded), its row is removed", async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B');
    const calls = [escalate(a.engine, payment(1100)), escalate(a.engine, payment(1200))];
    const ids = (await Promise.all(calls.map((call) => call.held))).map((t) => t.escalationId);
    const replicaRow = () =>
      db.pool.query(`SELECT id FROM "${db.schema}".replicas WHERE id = $1`, [a.replica.id]);
    expect((await replicaRow()).rows).toHaveLength(1);
    await replicas.stop(a);
    for (const [index, call] of calls.entries()) {
      const events = await auditOf(db, ids[index]);
      expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
      expect(await call.answer).toMatchObject({
        decision: Decision.BLOCK,
        eventId: events[1].id,
        escalationOutcome: 'expired',
      });
      expect(await b.engine.escalation(ids[index])).toMatchObject({
        status: 'TIMEOUT',
        reason: 'gateway closed',
      });
    }
    expect((await replicaRow()).rows).toHaveLength(0);
    await until(
      async () => ids.every((id) => stepsFor(b, id).join() === 'pending,expired'),
      'B saw both endings',
    );
  });
});
