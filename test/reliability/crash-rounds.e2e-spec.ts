/*
 * Issue 7, item 6: "an append that was acknowledged is never lost" (docs/reliability.md),
 * end to end. A child process runs a real Nest app with the embedded gateway
 * and the durable file store, gating calls at full speed and printing every
 * eventId it was given; it is killed with SIGKILL at a random moment, again
 * and again on the same file. After each kill a fresh process reopens the log, which holds every
 * printed eventId, and verifies; at the end a real app verifies it too.
 *
 * The engine-level test (test/unit/engine/audit/audit-log.crash.spec.ts)
 * kills a bare AuditLog writer; this one goes through the module, the
 * embedded gateway and `execute()`, where an ALLOW must come after the write.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bootToolApp } from './reliability.fixture';

const ROOT = resolve(__dirname, '..', '..');
const ROUNDS = Number(process.env.RELIABILITY_CRASH_ROUNDS ?? 20);
// A child's start-up is ~1.7 s on an idle 2-core machine; the timeout leaves room for a busy one.
const TIMEOUT_MS = 30_000 + ROUNDS * 6_000;

interface Round {
  acknowledged: string[];
  signal: NodeJS.Signals | null;
}

/**
 * Starts the app, waits until it is appending, and kills it once it has
 * printed `afterIds` acknowledged ids: a random moment counted in appends,
 * not in milliseconds, so the log grows by about the same amount on a fast
 * disk as on a slow one (a time-based moment let a fast CI disk write ten
 * times the events, and the per-round reopen and verify, which read the whole
 * file, outgrew the test's budget). The app keeps appending at full speed
 * until the signal lands, so the kill still cuts appends in flight.
 */
function killedRun(file: string, afterIds: number): Promise<Round> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['-r', join(ROOT, 'scripts/swc-register.js'), join(__dirname, 'fixtures/crash-app.ts'), file],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    let ready = false;
    let printed = 0;
    let killed = false;
    const kill = (): void => {
      if (killed) return;
      killed = true;
      child.kill('SIGKILL');
    };
    const watchdog = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!ready && out.startsWith('ready\n')) {
        ready = true;
        printed = countLines(out) - 1;
      } else if (ready) {
        printed += countLines(chunk);
      }
      if (ready && printed >= afterIds) kill();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      if (signal !== 'SIGKILL') {
        fail(new Error(`the app exited with ${code ?? signal} before the kill: ${err}`));
        return;
      }
      // Only complete lines: a line cut by the kill was not fully printed, so not counted.
      const lines = out.split('\n').slice(1, -1);
      done({ acknowledged: lines, signal });
    });
  });
}

interface Check {
  lost: string[];
  events: number;
  valid: boolean;
  violations: unknown[];
}

/** Runs fixtures/crash-check.ts on the log: what a fresh process finds after the kill. */
function checkedLog(file: string, acknowledgedFile: string): Promise<Check> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/swc-register.js'),
        join(__dirname, 'fixtures/crash-check.ts'),
        file,
        acknowledgedFile,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) {
        fail(new Error(`the check exited with ${String(code)}: ${err}`));
        return;
      }
      done(JSON.parse(out) as Check);
    });
  });
}

function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}

describe('SIGKILL during gated calls at full speed (item 6)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-crash-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    `every acknowledged event survives ${ROUNDS} kills, and the chain verifies after each`,
    async () => {
      const file = join(dir, 'audit.jsonl');
      const acknowledgedFile = join(dir, 'acknowledged.txt');
      const acknowledged = new Set<string>();
      let killedWithWork = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Random moments: from the first appends to a few hundred batches in.
        const afterIds = Math.floor(Math.random() * 3_000);
        const { acknowledged: ids } = await killedRun(file, afterIds);
        ids.forEach((id) => acknowledged.add(id));
        if (ids.length > 0) killedWithWork++;

        // Reopen as the next start would (it drops a torn last line), then check: in a
        // process of its own, since this one has run the suites before it (in one jest
        // process, whose heap made the same reads ten times slower by round 15).
        writeFileSync(acknowledgedFile, [...acknowledged].join('\n'));
        const check = await checkedLog(file, acknowledgedFile);
        expect({ round, lost: check.lost }).toEqual({ round, lost: [] });
        expect({ round, valid: check.valid, violations: check.violations }).toEqual({
          round,
          valid: true,
          violations: [],
        });
      }
      // The kills did land among appends, not only before the first one.
      expect(killedWithWork).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));

      // A real app reopens the file and agrees.
      const { app, gateway } = await bootToolApp({
        agentId: 'agent-crash',
        policy: { name: 'crash', rules: [{ action: 'crash.*', on_match: 'ALLOW' }] },
        audit: { store: 'file', path: file },
      });
      try {
        const verification = await gateway.audit!.verify();
        expect(verification.valid).toBe(true);
        expect(verification.eventsChecked).toBeGreaterThanOrEqual(acknowledged.size);
        const ids = new Set((await gateway.audit!.list()).map((event) => event.id));
        expect([...acknowledged].every((id) => ids.has(id))).toBe(true);
      } finally {
        await app.close();
      }
    },
    TIMEOUT_MS,
  );
});
