/*
 * `provenance policy backtest POLICY --url …` as a child process, on a chain
 * the real engine wrote to PostgreSQL (a fresh schema, dropped after): the
 * same report as for a file, one tenant at a time, and exit 2 for a schema
 * without the tables or a database that does not answer (no password shown).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { AUDIT_PAGE_ROWS, PostgresAuditStore } from '../../../lib/postgres/postgres-audit-store';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import { runCliProcess } from '../../security/security.helpers';
import { EXPECTED, recordScenario, writePolicies } from '../../unit/cli/policy-backtest.fixture';

describeWithPostgres('provenance policy backtest --url (child process)', () => {
  const db = usePostgres();
  let dir: string;
  let policies: { enforced: string; candidate: string };
  let context: PostgresContext;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-backtest-pg-'));
    policies = writePolicies(dir);
    context = new PostgresContext({ pool: db.pool, schema: db.schema });
    await context.ready();
    await recordScenario(
      policies.enforced,
      {
        store: new PostgresAuditStore(context, 'tenant-a'),
      },
      'tenant-a',
    );
  });

  afterAll(async () => {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replays the chain of the tenant and reports the same transitions as for a file', () => {
    const run = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      '--url',
      TEST_DATABASE_URL,
      '--schema',
      db.schema,
      '--tenant',
      'tenant-a',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as {
      source: string;
      calls: number;
      changed: number;
      unchanged: number;
      transitions: { from: string; to: string; count: number; examples: { sessionId: string }[] }[];
      skipped: Record<string, number>;
    };
    expect(report.source).toContain(`schema ${db.schema} tenant tenant-a`);
    expect(report.calls).toBe(EXPECTED.calls);
    expect(report.unchanged).toBe(EXPECTED.unchanged);
    expect(report.changed).toBe(EXPECTED.changed);
    expect(report.transitions.map((t) => [t.from, t.to, t.count])).toEqual(EXPECTED.transitions);
    expect(report.skipped).toMatchObject(EXPECTED.skipped);
    expect(report.transitions[0].examples.map((e) => e.sessionId)).toEqual([
      'sess_bt',
      'sess_other',
    ]);

    const changed = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      `--url=${TEST_DATABASE_URL}`,
      `--schema=${db.schema}`,
      '--tenant=tenant-a',
      '--fail-on-change',
    ]);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toContain('  ESCALATE → BLOCK: 1');
  });

  it('pages through a chain longer than a page (AUDIT_PAGE_ROWS)', async () => {
    const total = AUDIT_PAGE_ROWS * 2 + 17;
    const log = new AuditLog({ store: new PostgresAuditStore(context, 'tenant-long') });
    try {
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < total; i++) {
        appends.push(
          log.append({
            tenantId: 'tenant-long',
            sessionId: `s${i % 5}`,
            agentId: 'agent',
            action: i % 2 === 0 ? 'email.send' : 'data.read',
            parameters: { i },
            decision: i % 2 === 0 ? 'ALLOW' : 'BLOCK',
            reason: 'as enforced',
            kind: 'decision',
          }),
        );
      }
      await Promise.all(appends);
    } finally {
      await log.close();
    }
    const run = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      '--url',
      TEST_DATABASE_URL,
      '--schema',
      db.schema,
      '--tenant',
      'tenant-long',
      '--json',
    ]);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as {
      eventsRead: number;
      transitions: { from: string; to: string; count: number }[];
    };
    expect(report.eventsRead).toBe(total);
    // email.send is ALLOWed by neither rule of the candidate, data.read is now allowed.
    expect(report.transitions.map((t) => [t.from, t.to, t.count])).toEqual([
      ['ALLOW', 'BLOCK', Math.ceil(total / 2)],
      ['BLOCK', 'ALLOW', Math.floor(total / 2)],
    ]);
  });

  it('another tenant has no calls; the default tenant is local', () => {
    const run = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      '--url',
      TEST_DATABASE_URL,
      '--schema',
      db.schema,
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`schema ${db.schema} tenant local`);
    expect(run.stdout).toContain('0 event(s) read: 0 call(s) replayed');
  });

  it('exits 2 for a schema without the tables, and for a database that does not answer', () => {
    const missing = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      '--url',
      TEST_DATABASE_URL,
      '--schema',
      db.newSchemaName(),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('has no audit_events table');

    const url = new URL(TEST_DATABASE_URL);
    url.port = '1';
    url.password = 'sekrit-password';
    const down = runCliProcess(['policy', 'backtest', policies.candidate, '--url', url.toString()]);
    expect(down.status).toBe(2);
    expect(down.stderr).toContain('cannot read the audit chain');
    expect(down.stderr).not.toContain('sekrit-password');
    expect(down.stderr).not.toMatch(/\n\s+at /);

    const badSchema = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      '--url',
      TEST_DATABASE_URL,
      '--schema',
      'No-Such"Schema',
    ]);
    expect(badSchema.status).toBe(2);
    expect(badSchema.stderr).toContain('postgres.schema');
  });
});
