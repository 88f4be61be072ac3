// The memory `provenance audit verify` needs for a large log: writes an audit
// file of N events (default 1 000 000) once, then runs the CLI's verify on it
// as a child process and reports the child's peak RSS (sampled from
// /proc/<pid>/status every 20 ms; VmHWM at exit when available).
//   node -r ./scripts/swc-register.js bench/audit-verify-memory.ts [FILE] [N]
// A figure, not a test: docs/reliability.md quotes it.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditLog } from '../lib/engine/audit/audit-log';

const ROOT = resolve(__dirname, '..');

async function generate(file: string, count: number): Promise<void> {
  const log = await AuditLog.openFile(file, { durable: false });
  const batch = 1000;
  for (let start = log.size; start < count; start += batch) {
    const appends: Promise<unknown>[] = [];
    for (let n = start; n < Math.min(count, start + batch); n++) {
      appends.push(
        log.append({
          tenantId: 'bench',
          sessionId: `s${n % 97}`,
          agentId: 'bench-agent',
          action: `tool.${n % 13}`,
          parameters: { n, amount: n % 1000, note: 'x'.repeat(n % 40) },
          decision: n % 5 === 0 ? 'BLOCK' : 'ALLOW',
          reason: 'bench',
          kind: 'decision',
        }),
      );
    }
    await Promise.all(appends);
  }
  await log.close();
}

function peakOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status) ?? /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? join(ROOT, '.bench', 'audit-1m.jsonl'));
  const count = Number(process.argv[3] ?? 1_000_000);
  if (!existsSync(file)) {
    const started = Date.now();
    await generate(file, count);
    process.stdout.write(`wrote ${count} events in ${Date.now() - started} ms\n`);
  }
  const bytes = statSync(file).size;
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(ROOT, 'scripts/swc-register.js'),
      join(ROOT, 'lib/cli/main.ts'),
      'audit',
      'verify',
      file,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakOf(child.pid as number));
  }, 20);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  clearInterval(sampler);
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  process.stdout.write(out);
  process.stdout.write(
    `audit verify: exit ${code}, ${mb(bytes)} MB file, peak RSS ${mb(peak)} MB, ${Date.now() - started} ms\n`,
  );
}

void main();
