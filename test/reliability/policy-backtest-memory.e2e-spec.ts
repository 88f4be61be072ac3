/*
 * `provenance policy backtest` streams the log: replaying a file of
 * RELIABILITY_VERIFY_EVENTS events (default 200 000, tens of MB of JSON
 * lines, several times that as parsed objects) runs in a child process whose
 * V8 heap is capped far below what holding the log would take. Written by the
 * audit-verify-memory fixture (the lines the file store writes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const CHILD = join(ROOT, 'test/reliability/fixtures/audit-verify-child.ts');
const EVENTS = Number(process.env.RELIABILITY_VERIFY_EVENTS ?? 200_000);
const HEAP_MB = 48;
const TIMEOUT_MS = 60_000 + EVENTS / 2;

describe(`backtesting a file log of ${EVENTS} events`, () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-backtest-memory-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    `replays every call with a ${HEAP_MB} MB heap`,
    () => {
      const file = join(dir, 'audit.jsonl');
      const written = spawnSync(
        process.execPath,
        ['-r', join(ROOT, 'scripts/swc-register.js'), CHILD, 'write', file, String(EVENTS)],
        { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS },
      );
      expect(written.status).toBe(0);
      // Larger than the heap the replay gets: it cannot hold the log.
      expect(statSync(file).size).toBeGreaterThan(HEAP_MB * 1024 * 1024);
      const policy = join(dir, 'candidate.yml');
      // The fixture's events: tool.0 … tool.12, one in five BLOCKed.
      writeFileSync(
        policy,
        "rules:\n  - action: 'tool.1*'\n    on_match: BLOCK\n    reason: no\n  - action: '*'\n    on_match: ALLOW\n    reason: yes\n",
      );
      const run = spawnSync(
        process.execPath,
        [
          `--max-old-space-size=${HEAP_MB}`,
          '-r',
          join(ROOT, 'scripts/swc-register.js'),
          join(ROOT, 'lib/cli/main.ts'),
          'policy',
          'backtest',
          policy,
          file,
          '--json',
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const report = JSON.parse(run.stdout) as {
        eventsRead: number;
        calls: number;
        changed: number;
      };
      expect(report.eventsRead).toBe(EVENTS);
      expect(report.calls).toBe(EVENTS);
      expect(report.changed).toBeGreaterThan(0);
    },
    TIMEOUT_MS * 2,
  );
});
