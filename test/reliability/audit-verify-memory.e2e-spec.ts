/*
 * Issue 13: "verifying a 1 M-event file log stays under 200 MB RSS". An audit
 * file of RELIABILITY_VERIFY_EVENTS events (default 200 000, so `npm test`
 * stays quick; 1 000 000 in `npm run test:soak`) is written by a child
 * process straight from chainEvent (the lines and head anchor the file store
 * writes), then verified by two more children at once, both ways a log is
 * verified: AuditLog.verify() over a FileAuditStore and `provenance audit
 * verify FILE`. Each reports its own peak RSS (VmHWM), which must stay under
 * 200 MB, and the events it checked.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CHILD = join(ROOT, 'test/reliability/fixtures/audit-verify-child.ts');
const EVENTS = Number(process.env.RELIABILITY_VERIFY_EVENTS ?? 200_000);
const LIMIT_BYTES = 200 * 1024 * 1024;
const TIMEOUT_MS = 60_000 + EVENTS / 2.5;

type Report = Record<string, unknown> & { peakRss: number; ms: number };

/** Runs the child fixture's `mode` on `file`; resolves with its report. */
async function child(mode: 'write' | 'log' | 'cli', file: string): Promise<Report> {
  const process_ = spawn(
    process.execPath,
    ['-r', join(ROOT, 'scripts/swc-register.js'), CHILD, mode, file, String(EVENTS)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  process_.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  process_.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(process_, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the ${mode} child exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Report;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const say = (line: string) => process.stdout.write(`audit verify memory: ${line}\n`);

describe(`verifying a file log of ${EVENTS} events`, () => {
  let dir: string;
  let file: string;
  let verified: Promise<[Report, Report]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-verify-memory-'));
    file = join(dir, 'audit.jsonl');
    const written = await child('write', file);
    expect(statSync(file).size).toBe(written.bytes);
    say(`wrote ${EVENTS} events (${mb(written.bytes as number)}) in ${Math.round(written.ms)} ms`);
    // Both verifications at once: each child's peak RSS is its own.
    verified = Promise.all([child('log', file), child('cli', file)]);
    verified.catch(() => undefined);
  }, TIMEOUT_MS);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'AuditLog.verify() checks every event and the anchor, under 200 MB RSS',
    async () => {
      const [report] = await verified;
      say(`AuditLog.verify: peak RSS ${mb(report.peakRss)}, ${Math.round(report.ms)} ms`);
      expect(report).toMatchObject({ valid: true, eventsChecked: EVENTS, anchored: EVENTS - 1 });
      expect(report.peakRss).toBeGreaterThan(0);
      expect(report.peakRss).toBeLessThan(LIMIT_BYTES);
    },
    TIMEOUT_MS,
  );

  it(
    '`provenance audit verify FILE` says valid for every event, under 200 MB RSS',
    async () => {
      const [, report] = await verified;
      say(`provenance audit verify: peak RSS ${mb(report.peakRss)}, ${Math.round(report.ms)} ms`);
      expect(report.code).toBe(0);
      expect(report.out).toContain(
        `valid, ${EVENTS} event(s) checked, head anchor at ${EVENTS - 1}`,
      );
      expect(report.peakRss).toBeGreaterThan(0);
      expect(report.peakRss).toBeLessThan(LIMIT_BYTES);
    },
    TIMEOUT_MS,
  );
});
