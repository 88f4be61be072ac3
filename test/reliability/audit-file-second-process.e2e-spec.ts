/*
 * Issue 13: "the file store refuses a second writer". A second PROCESS that
 * opens an AuditLog on a file this one writes is refused at start-up with an
 * error naming the file and the writer that holds it (pid, host, since when),
 * and writes nothing: the chain is not forked. A writer killed with SIGKILL
 * leaves its lock behind; the next writer takes it over, says so once
 * (console.warn, naming the dead pid) and continues the chain.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { readAuditFile } from '../../lib/engine/audit/audit-log.file-store';
import { AuditStoreError } from '../../lib/engine/audit/audit.errors';

const ROOT = resolve(__dirname, '..', '..');
const WRITER = join(ROOT, 'test/reliability/fixtures/audit-log-writer.ts');

const input = (i: number) => ({
  tenantId: 'local',
  sessionId: 'sess_parent',
  agentId: 'parent',
  action: `parent.${i}`,
  parameters: { i },
  decision: 'ALLOW' as const,
  reason: 'ok',
  kind: 'decision' as const,
});

interface Writer {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the child's pid once its log is open, or with its exit (code, stderr). */
  started: Promise<{ ready: number } | { code: number | null; stderr: string }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the writer fixture on `file`, appending `count` events once open. */
function startWriter(file: string, count: number): Writer {
  const child = spawn(
    process.execPath,
    ['-r', join(ROOT, 'scripts/swc-register.js'), WRITER, file, String(count)],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('close', (code, signal) => done({ code, signal })),
  );
  const started = new Promise<{ ready: number } | { code: number | null; stderr: string }>(
    (done) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /^ready (\d+)\n/.exec(stdout);
        if (match) done({ ready: Number(match[1]) });
      });
      void exited.then(({ code }) => done({ code, stderr }));
    },
  );
  return { child, started, exited };
}

/** The rejection of a promise that must reject (this file stays clear of the module's imports). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the call resolved');
}

function lockOf(file: string): { pid: number; hostname: string; startedAt: string } {
  return JSON.parse(readFileSync(`${file}.lock`, 'utf8'));
}

describe('a second process on one audit file', () => {
  let dir: string;
  let file: string;
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-second-'));
    file = join(dir, 'audit.jsonl');
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    warn.mockRestore();
    error.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused at start-up, naming the file, this pid, host and since when; nothing is written', async () => {
    const log = await AuditLog.openFile(file, { durable: false });
    try {
      for (let i = 0; i < 3; i++) await log.append(input(i));
      const lock = lockOf(file);
      expect(lock.pid).toBe(process.pid);
      const before = readFileSync(file);

      const second = startWriter(file, 5);
      const outcome = await second.started;
      expect(outcome).toMatchObject({ code: 3 });
      const stderr = (outcome as { stderr: string }).stderr;
      expect(stderr).toContain(file);
      expect(stderr).toContain(`pid ${process.pid}`);
      expect(stderr).toContain(`host ${hostname()}`);
      expect(stderr).toContain(`since ${lock.startedAt}`);

      // The refused process wrote nothing and took nothing: this writer goes on.
      expect(readFileSync(file).equals(before)).toBe(true);
      expect(lockOf(file)).toEqual(lock);
      await log.append(input(3));
      const verification = await log.verify({ live: true });
      expect(verification).toMatchObject({ valid: true, eventsChecked: 4 });
    } finally {
      await log.close();
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
  }, 60_000);

  it('a writer killed with SIGKILL: refused while it lives, then its lock is taken over with one warning', async () => {
    const first = startWriter(file, 2);
    try {
      const outcome = await first.started;
      expect(outcome).toHaveProperty('ready');
      const childPid = (outcome as { ready: number }).ready;
      const lock = lockOf(file);
      expect(lock).toMatchObject({ pid: childPid, hostname: hostname() });

      // While it lives, this process is the second writer: refused, naming the child.
      const refused = await rejectionOf(AuditLog.openFile(file, { durable: false }));
      expect(refused).toBeInstanceOf(AuditStoreError);
      expect(refused.message).toContain(file);
      expect(refused.message).toContain(`pid ${childPid}`);
      expect(refused.message).toContain(`since ${lock.startedAt}`);

      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    // Killed, it could not remove its lock.
    expect(lockOf(file).pid).not.toBe(process.pid);
    const deadPid = lockOf(file).pid;
    warn.mockClear();

    const log = await AuditLog.openFile(file, { durable: false });
    try {
      const warnings = warn.mock.calls.map((call) => String(call[0]));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`${file}.lock`);
      expect(warnings[0]).toContain(`pid ${deadPid}`);
      expect(lockOf(file).pid).toBe(process.pid);
      // The chain the killed writer left goes on here.
      expect(log.size).toBe(2);
      await log.append(input(2));
      expect(await log.verify({ live: true })).toMatchObject({ valid: true, eventsChecked: 3 });
      const records = (await readAuditFile(file)).records as Array<{ agentId: string }>;
      expect(records.map((record) => record.agentId)).toEqual(['child', 'child', 'parent']);
    } finally {
      await log.close();
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
  }, 60_000);
});
