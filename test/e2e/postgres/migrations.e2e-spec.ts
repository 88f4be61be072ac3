import { spawn } from 'node:child_process';
import * as path from 'node:path';
import {
  LATEST_VERSION,
  MIGRATIONS,
  migrate,
  schemaVersions,
} from '../../../lib/postgres/migrations';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

const ROOT = path.resolve(__dirname, '../../..');

// Every table of the newest version (v2 added replicas).
const V1_TABLES = [
  'audit_events',
  'audit_heads',
  'escalations',
  'grants',
  'idempotency_keys',
  'replicas',
  'schema_migrations',
];

function run(
  script: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', path.join(ROOT, 'scripts/swc-register.js'), ...script],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (...args: string[]) => run([path.join(ROOT, 'lib/cli/main.ts'), ...args]);

describeWithPostgres('PostgreSQL schema migrations', () => {
  const db = usePostgres();

  const tablesOf = async (schema: string): Promise<string[]> =>
    (
      await db.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
        [schema],
      )
    ).rows.map((row) => row.table_name);

  it('creates every table and records v1; a second run applies nothing', async () => {
    expect(await schemaVersions(db.pool, { schema: db.schema })).toEqual([]);
    expect(await migrate(db.pool, { schema: db.schema })).toEqual([1, 2, 3]);
    expect(await tablesOf(db.schema)).toEqual(V1_TABLES);
    expect(await schemaVersions(db.pool, { schema: db.schema })).toEqual([1, 2, 3]);
    const recorded = await db.pool.query<{ version: number; applied_at: Date }>(
      `SELECT version, applied_at FROM "${db.schema}".schema_migrations`,
    );
    expect(recorded.rows).toHaveLength(MIGRATIONS.length);
    expect(recorded.rows[0].applied_at).toBeInstanceOf(Date);

    expect(await migrate(db.pool, { schema: db.schema })).toEqual([]);
    expect(await tablesOf(db.schema)).toEqual(V1_TABLES);
  });

  it('v1 has the keys the stores rely on', async () => {
    const schema = db.newSchemaName();
    await migrate(db.pool, { schema });
    const s = `"${schema}"`;
    const event = (tenant: string, position: number, id: string) =>
      db.pool.query(
        `INSERT INTO ${s}.audit_events (tenant_id, position, id, "timestamp", session_id, agent_id,
           action, parameters, payload_hash, decision, reason, kind, prev_hash, hash)
         VALUES ($1, $2, $3, 't', 's', 'a', 'x', 'null', 'h', 'ALLOW', 'r', 'decision', 'p', 'h')`,
        [tenant, position, id],
      );
    await event('t1', 0, 'e1');
    await event('t2', 0, 'e2');
    await expect(event('t1', 0, 'e3')).rejects.toMatchObject({ code: '23505' });
    await expect(event('t2', 1, 'e1')).rejects.toMatchObject({ code: '23505' });
    const indexes = await db.pool.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'escalations'`,
      [schema],
    );
    expect(indexes.rows.map((row) => row.indexdef).join('\n')).toMatch(/\(tenant_id, status\)/);
  });

  it('3 concurrent migrate() calls on fresh pools apply v1 exactly once', async () => {
    const schema = db.newSchemaName();
    const results = await Promise.all([1, 2, 3].map(() => migrate(db.newPool(), { schema })));
    expect(results.flat()).toEqual([1, 2, 3]);
    expect(results.filter((applied) => applied.length === 0)).toHaveLength(2);
    expect(await schemaVersions(db.pool, { schema })).toEqual([1, 2, 3]);
  });

  it('2 processes migrating at once apply v1 exactly once', async () => {
    const schema = db.newSchemaName();
    const script = [
      '-e',
      `const { Pool } = require('pg');
       const { migrate } = require(${JSON.stringify(path.join(ROOT, 'lib/postgres/migrations.ts'))});
       const pool = new Pool({ connectionString: process.env.URL });
       migrate(pool, { schema: process.env.SCHEMA })
         .then((v) => { process.stdout.write(JSON.stringify(v)); return pool.end(); })
         .catch((e) => { console.error(e); process.exit(1); });`,
    ];
    const env = { URL: TEST_DATABASE_URL, SCHEMA: schema };
    const [a, b] = await Promise.all([run(script, env), run(script, env)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([JSON.parse(a.stdout), JSON.parse(b.stdout)].flat()).toEqual([1, 2, 3]);
    expect(await schemaVersions(db.pool, { schema })).toEqual([1, 2, 3]);
  });

  it('a failing migration rolls everything back and records nothing', async () => {
    const schema = db.newSchemaName();
    const broken = [
      ...MIGRATIONS,
      {
        version: LATEST_VERSION + 1,
        name: 'broken',
        statements: (s: string) => [`CREATE TABLE ${s}.half (x int)`, 'SELECT no_such_function()'],
      },
    ];
    await expect(migrate(db.pool, { schema, migrations: broken })).rejects.toThrow(
      /migration v4 \(broken\) failed and was rolled back: .*no_such_function/,
    );
    expect(await schemaVersions(db.pool, { schema })).toEqual([]);
    expect(await tablesOf(schema)).toEqual([]);
    // The pool is still usable and the real list still applies.
    expect(await migrate(db.pool, { schema })).toEqual([1, 2, 3]);
  });

  it('refuses a bad schema name before any SQL', async () => {
    const before = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.schemata`,
    );
    await expect(migrate(db.pool, { schema: 'Bad-Name' })).rejects.toThrow(ProvenanceConfigError);
    const after = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.schemata`,
    );
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  describe('provenance db migrate', () => {
    it('applies v1 (exit 0), then prints that nothing was applied', async () => {
      const schema = db.newSchemaName();
      const first = await cli('db', 'migrate', '--url', TEST_DATABASE_URL, '--schema', schema);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`applied v1 (`);
      expect(first.stdout).toContain(`schema ${schema}`);

      const second = await cli('db', 'migrate', `--url=${TEST_DATABASE_URL}`, `--schema=${schema}`);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('nothing applied');
      expect(second.stdout).not.toContain('applied v1');
      expect(await schemaVersions(db.pool, { schema })).toEqual([1, 2, 3]);
    });

    it('a database that refuses: exit 1, and the password is never printed', async () => {
      const url = new URL(TEST_DATABASE_URL);
      url.username = 'no_such_user_provenance';
      url.password = 'hunter2-secret';
      url.port = '1'; // nothing listens there
      const result = await cli('db', 'migrate', '--url', url.toString());
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('provenance db migrate:');
      expect(result.stderr).toContain('***');
      expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
    });

    it('bad arguments: exit 2 with the usage', async () => {
      const noUrl = await run([path.join(ROOT, 'lib/cli/main.ts'), 'db', 'migrate'], {
        PROVENANCE_DATABASE_URL: '',
      });
      expect(noUrl.code).toBe(2);
      expect(noUrl.stderr).toContain('--url');
      const badSchema = await cli('db', 'migrate', '--url', TEST_DATABASE_URL, '--schema', 'a;b');
      expect(badSchema.code).toBe(2);
      expect(badSchema.stderr).toContain('postgres.schema');
    });
  });
});
