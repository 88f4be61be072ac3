import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import type { Pool } from 'pg';
import {
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type EscalationEvent,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../lib';
import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';

const policy: PolicyDocument = {
  name: 'module-postgres',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'large payments need a human',
    },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

async function boot(options: Partial<ProvenanceModuleOptions>): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-pg',
        policy,
        escalationTimeout: 20_000,
        ...options,
      }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

function pendingEvent(gateway: ProvenanceGateway): Promise<EscalationEvent> {
  return firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
}

async function count(pool: Pool, sql: string, values: unknown[] = []): Promise<number> {
  return Number((await pool.query<{ n: string }>(sql, values)).rows[0].n);
}

describeWithPostgres('ProvenanceModule.forRoot({ postgres })', () => {
  const db = usePostgres();

  it('{ connectionString }: the audit chain, escalations, grants and idempotency keys are rows of the schema', async () => {
    const schema = db.newSchemaName();
    const app = await boot({ postgres: { connectionString: TEST_DATABASE_URL, schema } });
    const gateway = app.get(ProvenanceGateway);
    const reviewer = app.get(ProvenanceReviewer);
    try {
      const allowed = await gateway.execute(
        'payments.initiate',
        { amount: 50 },
        { idempotencyKey: 'key-1' },
      );
      expect(allowed.decision).toBe('ALLOW');
      const replayed = await gateway.execute(
        'payments.initiate',
        { amount: 50 },
        { idempotencyKey: 'key-1', sessionId: allowed.sessionId },
      );
      expect(replayed.eventId).toBe(allowed.eventId);

      const held = pendingEvent(gateway);
      const call = gateway.execute('payments.initiate', { amount: 800 });
      const { escalationId } = await held;
      await reviewer.approve(escalationId, { approverId: 'cfo', reason: 'fine' });
      const approved = await call;
      expect([approved.decision, approved.actorHumanId]).toEqual(['ALLOW', 'cfo']);

      const grant = await reviewer.grant({
        action: 'payments.initiate',
        maxUses: 1,
        grantedBy: 'cfo',
      });
      const granted = await gateway.execute('payments.initiate', { amount: 900 });
      expect([granted.decision, granted.actorHumanId]).toEqual(['ALLOW', 'cfo']);

      const s = `"${schema}"`;
      expect(
        (
          await db.pool.query(
            `SELECT kind, decision FROM ${s}.audit_events WHERE tenant_id = 'local' ORDER BY position`,
          )
        ).rows,
      ).toEqual([
        { kind: 'decision', decision: 'ALLOW' },
        { kind: 'decision.replayed', decision: 'ALLOW' },
        { kind: 'escalation.pending', decision: 'ESCALATE' },
        { kind: 'escalation.approved', decision: 'ALLOW' },
        { kind: 'grant.created', decision: 'ALLOW' },
        { kind: 'grant.used', decision: 'ALLOW' },
      ]);
      const escalation = await db.pool.query(
        `SELECT status, approver_id FROM ${s}.escalations WHERE id = $1`,
        [escalationId],
      );
      expect(escalation.rows).toEqual([{ status: 'APPROVED', approver_id: 'cfo' }]);
      const grants = await db.pool.query(`SELECT uses, max_uses FROM ${s}.grants WHERE id = $1`, [
        grant.id,
      ]);
      expect(grants.rows).toEqual([{ uses: 1, max_uses: 1 }]);
      expect(
        await count(db.pool, `SELECT count(*) AS n FROM ${s}.idempotency_keys WHERE key = 'key-1'`),
      ).toBe(1);
      expect(await count(db.pool, `SELECT count(*) AS n FROM ${s}.replicas`)).toBe(1);
      expect((await gateway.audit!.verify()).valid).toBe(true);
    } finally {
      await app.close();
    }
    // Closed: its replica row is gone (the pool it made is ended: jest --detectOpenHandles).
    expect(await count(db.pool, `SELECT count(*) AS n FROM "${schema}".replicas`)).toBe(0);
  });

  it('{ pool }: uses the application pool and never ends it', async () => {
    const pool = db.newPool();
    const schema = db.newSchemaName();
    const app = await boot({ postgres: { pool, schema } });
    const result = await app.get(ProvenanceGateway).execute('payments.initiate', { amount: 10 });
    expect(result.decision).toBe('ALLOW');
    await app.close();
    expect(pool.ended).toBe(false);
    expect(await count(pool, `SELECT count(*) AS n FROM "${schema}".audit_events`)).toBe(1);
  });

  it('two apps on one schema: a call held by one is approved by the reviewer of the other', async () => {
    const postgres = { connectionString: TEST_DATABASE_URL, schema: db.newSchemaName() };
    const a = await boot({ postgres });
    const b = await boot({ postgres });
    try {
      const gatewayA = a.get(ProvenanceGateway);
      const held = pendingEvent(gatewayA);
      const call = gatewayA.execute('payments.initiate', { amount: 700 });
      const { escalationId } = await held;
      const listedOnB = await b.get(ProvenanceReviewer).pending();
      expect(listedOnB.map((r) => [r.id, r.agentId, r.parameters])).toEqual([
        [escalationId, 'agent-pg', { amount: 700 }],
      ]);
      await b.get(ProvenanceReviewer).approve(escalationId, { approverId: 'bob' });
      const result = await call;
      expect([result.decision, result.actorHumanId, result.escalationId]).toEqual([
        'ALLOW',
        'bob',
        escalationId,
      ]);
      const events = await b.get(ProvenanceGateway).audit!.list({ escalationId });
      expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.approved']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it.each([
    [{ connectionString: TEST_DATABASE_URL, pool: {} }, 'postgres.pool'],
    [{ connectionString: TEST_DATABASE_URL, schema: 'Bad Schema' }, 'postgres.schema'],
    [{ connectionString: TEST_DATABASE_URL, migrate: 'yes' }, 'postgres.migrate'],
  ])('refuses %j at start-up with a ProvenanceConfigError on %s', async (postgres, option) => {
    const error = await boot({ postgres: postgres as never }).then(
      async (app) => {
        await app.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe(option);
  });

  it('refuses a signing key with postgres at start-up', async () => {
    const error = await boot({
      postgres: { connectionString: TEST_DATABASE_URL, schema: db.newSchemaName() },
      audit: { signingKey: '-----BEGIN PRIVATE KEY-----' },
    }).then(
      async (app) => {
        await app.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe('audit.signingKey');
  });
});
