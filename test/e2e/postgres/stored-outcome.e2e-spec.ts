import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { MalformedOutcomeError, readStoredOutcome } from '../../../lib/postgres/stored-outcome';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

/**
 * readStoredOutcome is what a server's /wait answers for an escalation
 * another server held: only a well-formed, approved outcome may be an ALLOW.
 */
describeWithPostgres('readStoredOutcome: the answer an ending recorded, failing closed', () => {
  const db = usePostgres();
  let context: PostgresContext;

  beforeAll(() => {
    context = new PostgresContext({ pool: db.pool, schema: db.schema });
  });

  async function row(id: string, status: string, outcome: unknown, tenantId = 't1'): Promise<void> {
    await context.ready();
    await db.pool.query(
      `INSERT INTO "${db.schema}".escalations
         (id, tenant_id, status, agent_id, session_id, action, parameters_hash, reason,
          created_at, expires_at, outcome)
       VALUES ($1, $2, $3, 'agent', 'sess_x', 'payments.initiate', 'h', 'why', now(),
               now() + interval '1 minute', $4::jsonb)`,
      [id, tenantId, status, outcome === undefined ? null : JSON.stringify(outcome)],
    );
  }

  const approved = (id: string) => ({
    eventId: 'evt-1',
    decision: 'ALLOW',
    reason: 'Escalation APPROVED by cfo',
    escalationId: id,
    actorHumanId: 'cfo',
    approverReason: null,
    escalationOutcome: 'approved',
  });

  it('unknown, pending, and an approval as recorded', async () => {
    await row('e-pending', 'PENDING', undefined);
    await row('e-approved', 'APPROVED', approved('e-approved'));
    expect(await readStoredOutcome(context, 't1', 'nope')).toEqual({ kind: 'unknown' });
    expect(await readStoredOutcome(context, 't1', 'e-pending')).toEqual({ kind: 'pending' });
    expect(await readStoredOutcome(context, 't1', 'e-approved')).toEqual({
      kind: 'ended',
      response: approved('e-approved'),
    });
    // Another tenant's row is unknown to this tenant.
    expect(await readStoredOutcome(context, 't2', 'e-approved')).toEqual({ kind: 'unknown' });
  });

  it.each([
    ['an ended row without an outcome', 'APPROVED', () => undefined],
    ['an ALLOW on a rejected row', 'REJECTED', (id: string) => approved(id)],
    [
      'an ALLOW that does not say approved',
      'APPROVED',
      (id: string) => ({ ...approved(id), escalationOutcome: null }),
    ],
    [
      'a decision that is not ALLOW or BLOCK',
      'APPROVED',
      (id: string) => ({ ...approved(id), decision: 'ESCALATE' }),
    ],
    ['the answer of another escalation', 'APPROVED', () => approved('someone-else')],
    ['an outcome that is not an object', 'TIMEOUT', () => 'ALLOW'],
  ])('%s is refused, never answered', async (_what, status, outcome) => {
    const id = `e-${Math.random().toString(16).slice(2)}`;
    await row(id, status, outcome(id));
    await expect(readStoredOutcome(context, 't1', id)).rejects.toBeInstanceOf(
      MalformedOutcomeError,
    );
  });
});
