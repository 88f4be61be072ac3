import { Decision } from '../../../lib/protocol/decision';
import { EscalationError } from '../../../lib/protocol/provenance.errors';
import { replicaAliveSql } from '../../../lib/postgres/postgres-replica';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';
import {
  TENANT,
  auditOf,
  escalate,
  payment,
  stepOf,
  stepsFor,
  until,
  useReplicas,
  type TestReplica,
} from './escalation-replicas.fixture';

/**
 * A replica that dies holding calls: the others end its holds at their
 * deadline, and an approval of one of them becomes a single-use grant for
 * the identical call (its caller is gone).
 */
describeWithPostgres('PostgresEscalationStore: a holder that died', () => {
  const db = usePostgres();
  const replicas = useReplicas(db);

  /** As a crash looks to the others: no heartbeat, no connection, nothing ended. */
  const kill = async (r: TestReplica): Promise<void> => {
    r.replica.stopBeating();
    await r.context.pool.end();
  };

  const isAlive = async (replicaId: string, staleAfterMs: number): Promise<boolean> => {
    const result = await db.pool.query<{ alive: boolean }>(
      `SELECT ${replicaAliveSql(`"${db.schema}"`, '$1::text', staleAfterMs)} AS alive`,
      [replicaId],
    );
    return result.rows[0].alive;
  };

  const grantsOf = async (escalationId: string) =>
    (
      await db.pool.query<{
        id: string;
        kind: string;
        parameters_hash: string;
        max_uses: number;
        uses: number;
        status: string;
        agent_id: string;
        granted_by: string;
      }>(
        `SELECT id, kind, parameters_hash, max_uses, uses, status, agent_id, granted_by
           FROM "${db.schema}".grants WHERE tenant_id = $1 AND escalation_id = $2`,
        [TENANT, escalationId],
      )
    ).rows;

  const rowOf = async (id: string) =>
    (
      await db.pool.query<{
        status: string;
        parameters_hash: string;
        expires_at: Date;
        decided_at: Date | null;
      }>(
        `SELECT status, parameters_hash, expires_at, decided_at FROM "${db.schema}".escalations
          WHERE id = $1`,
        [id],
      )
    ).rows[0];

  it("a killed holder's hold is ended at its deadline by the others' sweepers, exactly once", async () => {
    const a = await replicas.start('A', { escalationTimeoutMs: 1200 });
    const b = await replicas.start('B');
    const c = await replicas.start('C');
    const call = escalate(a.engine, payment(2500));
    const { escalationId } = await call.held;
    await kill(a);

    await stepOf(b, (e) => e.type === 'expired' && e.record.id === escalationId);
    await stepOf(c, (e) => e.type === 'expired' && e.record.id === escalationId);
    const events = await auditOf(db, escalationId);
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.expired']);
    expect(stepsFor(b, escalationId)).toEqual(['pending', 'expired']);
    expect(stepsFor(c, escalationId)).toEqual(['pending', 'expired']);
    const row = await rowOf(escalationId);
    expect(row.status).toBe('TIMEOUT');
    // Ended at the deadline, not before it.
    expect(row.decided_at!.getTime()).toBeGreaterThanOrEqual(row.expires_at.getTime());

    // The dead replica's caller never got an answer, and on its close gets an error, never ALLOW.
    await replicas.stop(a);
    await expect(call.answer).rejects.toThrow();
  });

  it('an approval of an abandoned hold creates the single-use grant; the identical call retried on B runs once', async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B', { staleAfterMs: 500 });
    const call = escalate(a.engine, payment(3000, 'session-dead'));
    const { escalationId } = await call.held;
    await kill(a);
    await until(async () => !(await isAlive(a.replica.id, 500)), "A's heartbeat is stale");

    await b.engine.decide(escalationId, 'APPROVE', { approverId: 'alice', reason: 'fine' });
    const events = await auditOf(db, escalationId);
    expect(events.map((e) => e.kind)).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
    ]);
    const [grant] = await grantsOf(escalationId);
    expect(grant).toMatchObject({
      kind: 'single-use',
      max_uses: 1,
      uses: 0,
      status: 'ACTIVE',
      agent_id: 'billing-agent',
      granted_by: 'alice',
      parameters_hash: (await rowOf(escalationId)).parameters_hash,
    });
    const approved = await b.engine.escalation(escalationId);
    expect(approved).toMatchObject({ status: 'APPROVED', approverId: 'alice' });

    // The retry, on another replica and in another session: allowed once, by the grant.
    const retried = await b.engine.execute(payment(3000, 'session-retry'));
    expect(retried).toMatchObject({
      decision: Decision.ALLOW,
      escalationId,
      actorHumanId: 'alice',
    });
    const used = await db.pool.query<{ kind: string; id: string }>(
      `SELECT kind, id FROM "${db.schema}".audit_events WHERE tenant_id = $1 AND id = $2`,
      [TENANT, retried.eventId],
    );
    expect(used.rows[0].kind).toBe('grant.used');
    expect((await grantsOf(escalationId))[0]).toMatchObject({ uses: 1, status: 'USED_UP' });
    // Once: the same call again is held for a human.
    const again = escalate(b.engine, payment(3000, 'session-retry'));
    const held = await again.held;
    expect(held.escalationId).not.toBe(escalationId);
    expect(await b.engine.withdraw(held.escalationId)).toBe(true);
    expect((await again.answer).decision).toBe(Decision.BLOCK);
    expect((await b.engine.verify()).valid).toBe(true);
  });

  it('a caller that detached on A: the approval on B becomes the single-use grant', async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B');
    const call = escalate(a.engine, payment(3100));
    const { escalationId } = await call.held;
    expect(await a.engine.detach(escalationId)).toBe(true);
    await b.engine.decide(escalationId, 'APPROVE', { approverId: 'alice' });
    expect((await auditOf(db, escalationId)).map((e) => e.kind)).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
    ]);
    expect(await grantsOf(escalationId)).toHaveLength(1);
    // The detached caller's promise settles with the recorded answer (as in one process).
    expect(await call.answer).toMatchObject({ decision: Decision.ALLOW, escalationId });
  });

  it('a holder alive but seen as stale: its waiting caller is refused, not allowed, and the retry uses the grant', async () => {
    const a = await replicas.start('A');
    const b = await replicas.start('B', { staleAfterMs: 500 });
    const call = escalate(a.engine, payment(3200));
    const { escalationId } = await call.held;
    a.replica.stopBeating();
    await db.pool.query(
      `UPDATE "${db.schema}".replicas SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
      [a.replica.id],
    );
    await b.engine.decide(escalationId, 'APPROVE', { approverId: 'alice' });
    await expect(call.answer).rejects.toBeInstanceOf(EscalationError);
    expect(await grantsOf(escalationId)).toHaveLength(1);
    const retried = await a.engine.execute(payment(3200));
    expect(retried).toMatchObject({ decision: Decision.ALLOW, escalationId });
    expect((await grantsOf(escalationId))[0].status).toBe('USED_UP');
  });
});
