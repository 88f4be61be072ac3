/**
 * `node --expose-gc -r ./scripts/swc-register.js bench/gated-ab.ts <before-root> [rounds] [store]`
 *
 * An interleaved before/after of the gated call in ONE process (store
 * `memory`, the default, or `file` / `durable`: a file store in a temp dir):
 * the tree at `<before-root>` (another worktree with the same node_modules)
 * and this tree are both booted as in the gated group, then rounds alternate
 * between them (c1 latency, then c64 throughput and CPU per call). Both
 * share the process's load, heap and clock, so their ratio (the median of
 * the per-round ratios) is steadier on a shared machine than two group runs.
 */
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchApp } from './bench.app';
import { closedLoop } from './bench.load';
import { median } from './bench.stats';
import { ALLOWED_PAYMENT, samplePolicy } from './sample.workload';

interface Series {
  p50: number[];
  ops: number[];
  cpu: number[];
}

type Store = 'memory' | 'file' | 'durable';

function auditFor(store: Store) {
  if (store === 'memory') return { store: 'memory' as const };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenance-ab-'));
  return {
    store: 'file' as const,
    path: path.join(dir, 'audit.jsonl'),
    durable: store === 'durable',
  };
}

async function boot(root: string, store: Store): Promise<BenchApp> {
  const { bootProvenance } = (await import(path.join(root, 'bench', 'bench.app'))) as {
    bootProvenance: typeof import('./bench.app').bootProvenance;
  };
  return bootProvenance({
    agentId: 'bench-agent',
    policy: samplePolicy().document,
    audit: auditFor(store),
  });
}

function measure(app: BenchApp, concurrency: number, ms: number, latencies = false) {
  const { gateway } = app;
  const { action, parameters } = ALLOWED_PAYMENT;
  return closedLoop(concurrency, ms, () => gateway.execute(action, parameters), {
    latencies,
    wrap: (loop) => gateway.runInSession(undefined, loop),
  });
}

async function main(): Promise<void> {
  const [beforeRoot, roundsText, storeText = 'memory'] = process.argv.slice(2);
  if (beforeRoot === undefined) throw new Error('usage: gated-ab <before-root> [rounds] [store]');
  if (!['memory', 'file', 'durable'].includes(storeText)) {
    throw new Error(`store: 'memory', 'file' or 'durable', not '${storeText}'`);
  }
  const store = storeText as Store;
  const rounds = Number(roundsText ?? 10);
  const apps = {
    before: await boot(path.resolve(beforeRoot), store),
    after: await boot(path.join(__dirname, '..'), store),
  };
  const series: Record<keyof typeof apps, Series> = {
    before: { p50: [], ops: [], cpu: [] },
    after: { p50: [], ops: [], cpu: [] },
  };
  for (const app of Object.values(apps)) {
    await measure(app, 64, 500);
    await measure(app, 1, 300);
  }
  for (let round = 0; round < rounds; round++) {
    const order: (keyof typeof apps)[] =
      round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const key of order) {
      const one = await measure(apps[key], 1, 300, true);
      const many = await measure(apps[key], 64, 400);
      series[key].p50.push(median(one.latencies) / 1000);
      series[key].ops.push(many.opsPerSecond);
      series[key].cpu.push(many.cpuUsPerCall);
    }
  }
  const ratio = (figure: keyof Series) =>
    median(series.after[figure].map((value, i) => value / series.before[figure][i]));
  for (const key of ['before', 'after'] as const) {
    const s = series[key];
    console.log(
      `${key.padEnd(6)} c1.p50 ${median(s.p50).toFixed(2)} µs  c64 ${median(s.ops).toFixed(0)} ops/s  cpu ${median(s.cpu).toFixed(2)} µs/call`,
    );
  }
  console.log(
    `after/before: c1.p50 ${ratio('p50').toFixed(3)}  c64 ${ratio('ops').toFixed(3)}  cpu ${ratio('cpu').toFixed(3)}`,
  );
  for (const app of Object.values(apps)) await app.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
