/*
 * Issue 13 (several replicas), groundwork. Two writers of one audit file fork
 * its chain silently; so the file store takes a lock file beside the log
 * (`<file>.lock`: pid, host, start time) and a second writer, in this process
 * or another, is refused at open with an AuditStoreError naming the file and
 * the holder. A lock whose process is gone (a SIGKILLed replica) is taken
 * over. Reading (verify, readAuditFile) takes no lock.
 *
 * And a replica whose store is damaged says so in its log once, with the file
 * and the position, however many calls then fail.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { FileAuditStore, readAuditFile } from '../../lib/engine/audit/audit-log.file-store';
import { AuditStoreError } from '../../lib/engine/audit/audit.errors';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import { GatewayError } from '../../lib/protocol/provenance.errors';
import { bootToolApp, rejectionOf, RecordingLogger } from './reliability.fixture';

const ROOT = resolve(__dirname, '..', '..');
const policy: PolicyDocument = {
  name: 'single-writer',
  rules: [{ action: '*', on_match: 'ALLOW', reason: 'ok' }],
};
const input = (i: number) => ({
  tenantId: 'local',
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action: `tool.${i}`,
  parameters: { i },
  decision: 'ALLOW' as const,
  reason: 'ok',
  kind: 'decision' as const,
});

/** The pid of a process that has exited (and been reaped): no process has it now. */
function deadPid(): number {
  const run = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(run.stdout);
}

describe('one writer per audit file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-lock-'));
    file = join(dir, 'audit.jsonl');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second FileAuditStore in the same process is refused, naming the file and this pid', async () => {
    const first = new FileAuditStore(file, { durable: false });
    await first.open();
    try {
      const error = await rejectionOf(new FileAuditStore(file, { durable: false }).open());
      expect(error).toBeInstanceOf(AuditStoreError);
      expect(error.message).toContain(file);
      expect(error.message).toContain(`pid ${process.pid}`);
      expect(error.message).toContain(hostname());
      const lock = JSON.parse(readFileSync(`${file}.lock`, 'utf8'));
      expect(lock).toMatchObject({ pid: process.pid, hostname: hostname() });
      expect(typeof lock.startedAt).toBe('string');
    } finally {
      await first.close();
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
    // Released: the next writer opens.
    const again = new FileAuditStore(file, { durable: false });
    await again.open();
    await again.close();
  });

  it('reading takes no lock: readAuditFile and verify work while a writer holds the file', async () => {
    const writer = await AuditLog.openFile(file, { durable: false });
    try {
      await writer.append(input(0));
      expect((await readAuditFile(file)).records).toHaveLength(1);
      const reader = new FileAuditStore(file, { durable: false });
      expect((await reader.read()).records).toHaveLength(1);
      expect((await writer.verify()).valid).toBe(true);
    } finally {
      await writer.close();
    }
  });

  it('two real apps on one file: the second one fails its calls, naming the file and the pid', async () => {
    const audit = { store: 'file' as const, path: file, durable: false };
    const first = await bootToolApp({ agentId: 'replica-1', policy, audit });
    try {
      await first.gateway.execute('tool.run', { n: 1 });
      const second = await bootToolApp({ agentId: 'replica-2', policy, audit });
      try {
        const opened = await rejectionOf((second.gateway.audit as AuditLog).open());
        expect(opened).toBeInstanceOf(AuditStoreError);
        expect(opened.message).toContain(file);
        expect(opened.message).toContain(`pid ${process.pid}`);
        const failed = await rejectionOf(second.gateway.execute('tool.run', { n: 2 }));
        expect(failed).toBeInstanceOf(GatewayError);
        expect(failed.message).toContain(`pid ${process.pid}`);
      } finally {
        await second.app.close();
      }
      // The first replica's chain is untouched and goes on.
      await first.gateway.execute('tool.run', { n: 3 });
      expect((await first.gateway.audit!.verify()).valid).toBe(true);
      expect((await readAuditFile(file)).records).toHaveLength(2);
    } finally {
      await first.app.close();
    }
  });

  it('a second process is refused while this one holds the file, naming this pid', async () => {
    const store = new FileAuditStore(file, { durable: false });
    await store.open();
    try {
      const run = spawnSync(
        process.execPath,
        [
          '-r',
          join(ROOT, 'scripts/swc-register.js'),
          join(ROOT, 'test/fixtures/audit-lock-holder.ts'),
          file,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000, input: '' },
      );
      expect(run.status).toBe(3);
      expect(run.stderr).toContain(file);
      expect(run.stderr).toContain(`pid ${process.pid}`);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a lock held by another live process refuses this one, naming its pid', async () => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/swc-register.js'),
        join(ROOT, 'test/fixtures/audit-lock-holder.ts'),
        file,
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    try {
      const pid = await new Promise<number>((done, fail) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          const match = /^ready (\d+)\n/.exec(out);
          if (match) done(Number(match[1]));
        });
        child.on('exit', (code) => fail(new Error(`the holder exited with ${code}`)));
      });
      const error = await rejectionOf(new FileAuditStore(file, { durable: false }).open());
      expect(error).toBeInstanceOf(AuditStoreError);
      expect(error.message).toContain(file);
      expect(error.message).toContain(`pid ${pid}`);
    } finally {
      const exited = new Promise((done) => child.on('close', done));
      child.stdin.end();
      await exited;
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
  }, 60_000);

  it('a stale lock (its process is gone) is taken over', async () => {
    const stale = { pid: deadPid(), hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' };
    writeFileSync(`${file}.lock`, JSON.stringify(stale));
    const log = await AuditLog.openFile(file, { durable: false });
    try {
      await log.append(input(0));
      const lock = JSON.parse(readFileSync(`${file}.lock`, 'utf8'));
      expect(lock.pid).toBe(process.pid);
    } finally {
      await log.close();
    }
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("a lock with this process's pid that no store here holds (a restarted container) is taken over", async () => {
    const previous = {
      pid: process.pid,
      hostname: hostname(),
      startedAt: '2026-01-01T00:00:00.000Z',
    };
    writeFileSync(`${file}.lock`, JSON.stringify(previous));
    const store = new FileAuditStore(file, { durable: false });
    await store.open();
    await store.close();
  });

  it('a store that refuses to open (damaged) does not keep the lock', async () => {
    writeFileSync(file, 'not an event\n');
    const error = await rejectionOf(new FileAuditStore(file, { durable: false }).open());
    expect(error).toBeInstanceOf(AuditStoreError);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});

describe('a damaged store is logged once', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-damaged-'));
    file = join(dir, 'audit.jsonl');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls fail, and the log has exactly one error naming the file and the position', async () => {
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 3; i++) await log.append(input(i));
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = '{"damaged":true}';
    writeFileSync(file, lines.join('\n'));

    const logger = new RecordingLogger();
    const booted = await bootToolApp({
      agentId: 'replica-damaged',
      policy,
      logger,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      for (let i = 0; i < 5; i++) {
        const error = await rejectionOf(booted.gateway.execute('tool.run', { i }));
        expect(error).toBeInstanceOf(GatewayError);
      }
      const errors = logger.lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain(file);
      expect(errors[0].message).toContain('position 1');
    } finally {
      await booted.app.close();
    }
  });

  it('an append that fails is logged once, though every later append is refused', async () => {
    const logger = new RecordingLogger();
    const booted = await bootToolApp({
      agentId: 'replica-failing',
      policy,
      logger,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      await booted.gateway.execute('tool.run', { i: 0 });
      const store = (booted.gateway.audit as AuditLog).store as FileAuditStore;
      // The disk goes away under the store: its handle is closed behind its back.
      await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
      for (let i = 1; i <= 5; i++) {
        await rejectionOf(booted.gateway.execute('tool.run', { i }));
      }
      const errors = logger.lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain(file);
    } finally {
      await booted.app.close().catch(() => undefined);
    }
  });
});
