/*
 * The policy pair (policyHash, policyVersion) in PostgreSQL: migration v3's
 * columns keep it exactly, an event without it reads back without it (its
 * hash as before), and an UPDATE of policy_hash breaks verify.
 */
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import type { AuditEventInput } from '../../../lib/engine/audit/audit-event';
import { PostgresAuditStore } from '../../../lib/postgres/postgres-audit-store';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

describeWithPostgres('PostgresAuditStore: the policy each event was decided with', () => {
  const db = usePostgres();
  let context: PostgresContext;
  let tenants = 0;
  const logs: AuditLog[] = [];

  beforeAll(async () => {
    context = new PostgresContext({ pool: db.pool, schema: db.schema });
    await context.ready();
  });
  afterAll(async () => {
    await Promise.all(logs.map((log) => log.close().catch(() => undefined)));
    await context.close();
  });

  const logFor = (tenant: string) => {
    const log = new AuditLog({ store: new PostgresAuditStore(context, tenant) });
    logs.push(log);
    return log;
  };
  const input = (tenant: string, extra: Partial<AuditEventInput>): AuditEventInput => ({
    tenantId: tenant,
    sessionId: 's',
    agentId: 'a',
    action: 'files.read',
    parameters: { n: 1 },
    decision: 'ALLOW',
    reason: 'ok',
    kind: 'decision',
    ...extra,
  });

  it('records and reads back the pair, a null version, and events without it', async () => {
    const tenant = `tenant-${++tenants}`;
    const log = logFor(tenant);
    const written = [
      await log.append(input(tenant, { policyHash: HASH_A, policyVersion: '3' })),
      await log.append(input(tenant, { policyHash: HASH_B, policyVersion: null })),
      await log.append(input(tenant, { kind: 'grant.created' })),
      await log.append(
        input(tenant, {
          kind: 'grant.used',
          approverReason: 'ok by me',
          policyHash: HASH_A,
          policyVersion: '3',
        }),
      ),
    ];
    const rows = await db.pool.query<{ policy_hash: string | null; policy_version: string | null }>(
      `SELECT policy_hash, policy_version FROM ${context.schema}.audit_events WHERE tenant_id = $1 ORDER BY position`,
      [tenant],
    );
    expect(rows.rows).toEqual([
      { policy_hash: HASH_A, policy_version: '3' },
      { policy_hash: HASH_B, policy_version: null },
      { policy_hash: null, policy_version: null },
      { policy_hash: HASH_A, policy_version: '3' },
    ]);
    // A fresh reader (another replica) gets back exactly what was written.
    const reader = logFor(tenant);
    const read = await reader.list();
    expect(read).toEqual(written);
    expect('policyHash' in read[2]).toBe(false);
    expect(await reader.verify()).toMatchObject({ valid: true, eventsChecked: 4 });
  });

  it('an UPDATE of policy_hash (or clearing it) breaks verify at that position', async () => {
    const tenant = `tenant-${++tenants}`;
    const log = logFor(tenant);
    await log.append(input(tenant, { policyHash: HASH_A, policyVersion: '3' }));
    await log.append(input(tenant, { policyHash: HASH_A, policyVersion: '3' }));
    expect((await log.verify()).valid).toBe(true);
    for (const value of [HASH_B, null]) {
      await db.pool.query(
        `UPDATE ${context.schema}.audit_events SET policy_hash = $2 WHERE tenant_id = $1 AND position = 1`,
        [tenant, value],
      );
      const verification = await logFor(tenant).verify();
      expect(verification.valid).toBe(false);
      expect(verification.firstBrokenPosition).toBe(1);
    }
  });
});
