import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { GENESIS_HASH } from '../../../lib/engine/audit/audit-event';
import { migrate } from '../../../lib/postgres/migrations';
import { PostgresAuditStore } from '../../../lib/postgres/postgres-audit-store';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

const ROOT = path.resolve(__dirname, '../../..');
const CHILD = path.join(ROOT, 'test/fixtures/postgres/audit-append-child.ts');
const WRITERS = 3;
const EACH = 500;

/** A writer process, its output so far, and its exit. */
interface Writer {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  ready: Promise<void>;
  exit: Promise<{ code: number | null; stderr: string }>;
}

function startWriter(schema: string, tenant: string, agent: string): Writer {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(ROOT, 'scripts/swc-register.js'),
      CHILD,
      TEST_DATABASE_URL,
      schema,
      tenant,
      String(EACH),
      agent,
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith('ready\n')) onReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      onReady(); // a writer that died before `ready` must not hang the test
      resolve({ code, stderr });
    });
  });
  return { child, stdout: () => stdout, ready, exit };
}

describeWithPostgres('PostgreSQL audit chain: writer processes at once', () => {
  const db = usePostgres();

  it(`${WRITERS} processes appending ${EACH} events each to one tenant: one gapless chain`, async () => {
    await migrate(db.pool, { schema: db.schema });
    const tenant = 'shared-tenant';
    const agents = Array.from({ length: WRITERS }, (_, i) => `writer-${i}`);
    const writers = agents.map((agent) => startWriter(db.schema, tenant, agent));
    await Promise.all(writers.map((w) => w.ready));
    for (const writer of writers) writer.child.stdin.end('go\n');
    const exits = await Promise.all(writers.map((w) => w.exit));
    expect(exits).toEqual(agents.map(() => ({ code: 0, stderr: '' })));

    // What each writer was told: [sequence, position, hash, id] per acknowledged event.
    const told = writers.map(
      (w) => JSON.parse(w.stdout().split('\n')[1]) as Array<[number, number, string, string]>,
    );
    told.forEach((events) => {
      expect(events.map(([sequence]) => sequence)).toEqual([...Array(EACH).keys()]);
      // One log's appends are stored in the order it made them.
      const positions = events.map(([, position]) => position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    });

    const rows = (
      await db.pool.query<{
        position: string;
        prev_hash: string;
        hash: string;
        id: string;
        agent_id: string;
        parameters: string;
      }>(
        `SELECT position, prev_hash, hash, id, agent_id, parameters FROM "${db.schema}".audit_events
         WHERE tenant_id = $1 ORDER BY position`,
        [tenant],
      )
    ).rows;
    expect(rows).toHaveLength(WRITERS * EACH);
    expect(rows.map((row) => Number(row.position))).toEqual([...Array(WRITERS * EACH).keys()]);
    rows.forEach((row, i) => expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash));
    const head = await db.pool.query(
      `SELECT position, hash FROM "${db.schema}".audit_heads WHERE tenant_id = $1`,
      [tenant],
    );
    expect(head.rows).toEqual([
      { position: String(WRITERS * EACH - 1), hash: rows[rows.length - 1].hash },
    ]);

    // Every acknowledged event is stored where, and as, its writer was told.
    told.forEach((events, w) => {
      for (const [sequence, position, hash, id] of events) {
        const row = rows[position];
        expect([row.hash, row.id, row.agent_id]).toEqual([hash, id, agents[w]]);
        expect(JSON.parse(row.parameters)).toEqual({ sequence, agent: agents[w] });
      }
    });
    // The writers really did interleave (else this tested one writer after another).
    const switches = rows.filter((row, i) => i > 0 && row.agent_id !== rows[i - 1].agent_id).length;
    expect(switches).toBeGreaterThan(WRITERS - 1);

    const context = new PostgresContext({ pool: db.pool, schema: db.schema });
    const log = new AuditLog({ store: new PostgresAuditStore(context, tenant) });
    try {
      const verification = await log.verify();
      expect(verification).toMatchObject({
        valid: true,
        eventsChecked: WRITERS * EACH,
        violations: [],
        anchor: { position: WRITERS * EACH - 1, hash: rows[rows.length - 1].hash },
      });
      expect(await log.count({ agentId: agents[1] })).toBe(EACH);
    } finally {
      await log.close();
      await context.close();
    }
  });
});
