import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { prepareEvent } from '../../../lib/engine/audit/audit-event';
import { migrate } from '../../../lib/postgres/migrations';
import { appendChainedWithin } from '../../../lib/postgres/postgres-audit-append';
import { AUDIT_PAGE_ROWS } from '../../../lib/postgres/postgres-audit-store';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

const ROOT = path.resolve(__dirname, '../../..');
// 100 000 events in `npm test`; `npm run test:soak` verifies 1 000 000 (PROVENANCE_AUDIT_VERIFY_EVENTS).
const EVENTS = Number(process.env.PROVENANCE_AUDIT_VERIFY_EVENTS ?? 100_000);
const BATCH = 5000;
const HEAP_CAP_MB = Number(process.env.PROVENANCE_AUDIT_VERIFY_HEAP_MB ?? 48);

interface ChildVerification {
  valid: boolean;
  eventsChecked: number;
  problems: string[];
  rssBeforeMb: number;
  peakRssMb: number;
  verifyMs: number;
}

function verifyInChild(schema: string, tenant: string): Promise<ChildVerification> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        // The heap the verify may use: a log held whole could not fit (100 000 events
        // built as objects took 413 MB of heap here), and the child would die out of memory.
        `--max-old-space-size=${HEAP_CAP_MB}`,
        '-r',
        path.join(ROOT, 'scripts/swc-register.js'),
        path.join(ROOT, 'test/fixtures/postgres/audit-verify-child.ts'),
        TEST_DATABASE_URL,
        schema,
        tenant,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`verify child exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ChildVerification);
    });
  });
}

describeWithPostgres('PostgreSQL audit chain: verify in bounded memory', () => {
  const db = usePostgres();

  it(`verifies ${EVENTS} chained events page by page (${AUDIT_PAGE_ROWS} rows), in bounded memory`, async () => {
    await migrate(db.pool, { schema: db.schema });
    const s = `"${db.schema}"`;
    const tenant = 'large-tenant';
    // Chained in Node (chainEvent, via appendChainedWithin), one transaction per batch.
    const started = Date.UTC(2030, 0, 1);
    const client = await db.pool.connect();
    try {
      for (let from = 0; from < EVENTS; from += BATCH) {
        const batch = Array.from({ length: BATCH }, (_, i) =>
          prepareEvent(
            {
              tenantId: tenant,
              sessionId: `s${(from + i) % 7}`,
              agentId: 'agent',
              action: 'files.read',
              parameters: { n: from + i },
              decision: 'ALLOW',
              reason: 'r',
              kind: 'decision',
            },
            new Date(started + from + i),
          ),
        );
        await client.query('BEGIN');
        await appendChainedWithin(client, s, tenant, batch);
        await client.query('COMMIT');
      }
    } finally {
      client.release();
    }
    const stored = await db.pool.query(
      `SELECT count(*)::int AS n, max(position)::int AS last FROM ${s}.audit_events WHERE tenant_id = $1`,
      [tenant],
    );
    expect(stored.rows).toEqual([{ n: EVENTS, last: EVENTS - 1 }]);

    const result = await verifyInChild(db.schema, tenant);
    expect(result).toMatchObject({ valid: true, eventsChecked: EVENTS, problems: [] });
    // Bounded memory is proven by the heap cap above (the child verified the whole
    // chain within it); RSS depends on when the collector runs, so it is only reported.
    process.stderr.write(
      `audit verify of ${EVENTS} PostgreSQL events: ${Math.round(result.verifyMs)} ms, ` +
        `RSS ${Math.round(result.rssBeforeMb)} MB before, peak ${Math.round(result.peakRssMb)} MB\n`,
    );
  }, 120_000);
});
