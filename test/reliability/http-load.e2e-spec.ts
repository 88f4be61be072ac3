/*
 * Issue 7, item 8: 10 000 gated calls at concurrency 256 from a Nest app
 * (ProvenanceModule over the HTTP transport, a @Guarded method) to the
 * gateway server (lib/server, createGatewayServer) on loopback, with the
 * durable file store. Zero errors, the audit holds exactly one event per call
 * and verifies, and memory comes back near where it started.
 *
 * Memory is measured in this process after a full GC. jest does not pass
 * --expose-gc, so the test switches it on at run time (v8 flag + a fresh VM
 * context, which then exposes `gc`); if that ever fails, the memory assertion
 * is skipped with a visible note rather than measured on garbage.
 *
 * Size: RELIABILITY_LOAD_CALLS (default 2 000 in CI) and RELIABILITY_LOAD_CONCURRENCY
 * (default 256); `npm run test:soak` runs the 10 000 (docs/reliability.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { INestApplication } from '@nestjs/common';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { generateApiKey } from '../../lib/server/api-keys';
import { createGatewayServer } from '../../lib/server/factory';
import { bootToolApp, type ToolApp } from './reliability.fixture';

// CI default 2 000: on the shared 2-core machine 10 000 took ~50 s; the issue's
// full size runs with `npm run test:soak` (RELIABILITY_LOAD_CALLS=10000).
const CALLS = Number(process.env.RELIABILITY_LOAD_CALLS ?? 2_000);
const CONCURRENCY = Number(process.env.RELIABILITY_LOAD_CONCURRENCY ?? 256);
const WARM_UP = 512;
const MiB = 1024 * 1024;

function exposeGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

async function heapAfterGc(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((done) => setImmediate(done));
  }
  return process.memoryUsage().heapUsed;
}

/** Runs `total` calls through `CONCURRENCY` workers; returns the errors. */
async function drive(total: number, call: (n: number) => Promise<unknown>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = next++;
      try {
        await call(n);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, total) }, worker));
  return errors;
}

describe(`${CALLS} gated calls at concurrency ${CONCURRENCY} over HTTP to the gateway server (item 8)`, () => {
  let dir: string;
  let server: INestApplication;
  let client: ToolApp;
  const apiKey = generateApiKey('test');
  const tenantId = 'load';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-load-'));
    server = await createGatewayServer(
      {
        keys: [
          {
            key: apiKey,
            tenantId,
            policy: { name: 'load', rules: [{ action: 'tool.*', on_match: 'ALLOW' }] },
          },
        ],
        audit: { store: 'file', dir, durable: true },
      },
      { logger: false },
    );
    await server.listen(0, '127.0.0.1');
    const { port } = server.getHttpServer().address() as { port: number };
    client = await bootToolApp({
      gatewayUrl: `http://127.0.0.1:${port}`,
      agentId: 'agent-load',
      apiKey,
      timeout: 30_000,
      sessionHeader: false,
    });
  });

  afterAll(async () => {
    await client?.app.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('zero errors, one audit event per call, a valid chain, and memory back near its start', async () => {
    const gc = exposeGc();
    const warmUpErrors = await drive(WARM_UP, (n) => client.tool.run({ n, warm: true }));
    expect(warmUpErrors).toEqual([]);
    const start = gc ? await heapAfterGc(gc) : process.memoryUsage().heapUsed;

    const errors = await drive(CALLS, (n) => client.tool.run({ n, order: `o-${n}` }));

    expect(errors.slice(0, 3).map(String)).toEqual([]);
    expect(errors).toHaveLength(0);
    expect(client.tool.runs).toBe(WARM_UP + CALLS);

    if (gc) {
      const end = await heapAfterGc(gc);
      const grown = (end - start) / MiB;
      // The audit log keeps only its head (retainEvents is false by default: list
      // and count read the file), so nothing may grow with the number of calls
      // (+0.5 MiB measured after 10 000 calls, `npm run test:soak`, where 1 KiB an
      // event kept would pass 8 MiB; the 2 000 of `npm test` prove less).
      const allowed = 8;
      process.stdout.write(
        `load: heap ${(start / MiB).toFixed(1)} MiB -> ${(end / MiB).toFixed(1)} MiB after ${CALLS} calls ` +
          `(+${grown.toFixed(1)} MiB, bound ${allowed.toFixed(1)} MiB)\n`,
      );
      expect(grown).toBeLessThan(allowed);
    } else {
      process.stdout.write('load: NOTE gc could not be exposed; memory assertion skipped\n');
    }

    // Closing the server flushes and releases the tenant's log; then read the file as a new process would.
    await server.close();
    const log = await AuditLog.openFile(join(dir, `${tenantId}.audit.jsonl`));
    try {
      expect(log.size).toBe(WARM_UP + CALLS);
      const verification = await log.verify();
      expect({ valid: verification.valid, checked: verification.eventsChecked }).toEqual({
        valid: true,
        checked: WARM_UP + CALLS,
      });
      const events = await log.list();
      const orders = new Set(
        events.map((event) => (event.parameters?.input as { order?: string })?.order),
      );
      orders.delete(undefined);
      expect(orders.size).toBe(CALLS);
      expect(
        events.every((event) => event.decision === 'ALLOW' && event.action === 'tool.run'),
      ).toBe(true);
    } finally {
      await log.close();
    }
  }, 180_000);
});
