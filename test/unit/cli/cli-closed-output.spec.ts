/*
 * `provenance … | head`: the reader goes away after the first lines. Every
 * command must then end quietly, with its own exit code, and no stack trace
 * (before, the EPIPE of the next write was an unhandled 'error' event).
 * Each command runs as a child process whose stdout pipe the test destroys
 * after the first chunk, while the command still has much more to write.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { auditInput } from '../../security/security.helpers';

const ROOT = path.join(__dirname, '../../..');
const EVENTS = 4000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  chunks: number;
}

/**
 * Runs the CLI, reads one chunk of its stdout, then closes the pipe, as `head -1` would;
 * with `before`, closes it before the command writes anything (`head -n 0`).
 */
function runAndCloseEarly(args: string[], before = false): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        path.join(ROOT, 'scripts/swc-register.js'),
        path.join(ROOT, 'lib/cli/main.ts'),
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let chunks = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr += text));
    if (before) {
      child.stdout.destroy();
      chunks++;
    } else {
      child.stdout.once('data', () => {
        chunks++;
        child.stdout.destroy();
      });
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, chunks }));
  });
}

describe('a CLI command whose reader closes early', () => {
  let dir: string;
  let log: string;
  let policy: string;
  let cases: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-closed-'));
    log = path.join(dir, 'audit.jsonl');
    const audit = await AuditLog.openFile(log, { durable: false });
    for (let i = 0; i < EVENTS; i++) {
      await audit.append(auditInput(i, { action: 'email.send', decision: 'ALLOW' }));
    }
    await audit.close();
    policy = path.join(dir, 'policy.yml');
    fs.writeFileSync(policy, "rules:\n  - action: '*'\n    on_match: BLOCK\n    reason: nothing\n");
    cases = path.join(dir, 'cases.yml');
    const list = Array.from(
      { length: EVENTS },
      (_, i) => `  - { name: case ${i}, action: email.send, expect: BLOCK }`,
    );
    fs.writeFileSync(cases, `cases:\n${list.join('\n')}\n`);
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const quiet = (ended: Ended) => {
    expect(ended.chunks).toBe(1);
    expect(ended.signal).toBeNull();
    expect(ended.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    expect(ended.stderr).toBe('');
  };

  it('audit tail: exit 0', async () => {
    const ended = await runAndCloseEarly(['audit', 'tail', log, '-n', String(EVENTS)]);
    quiet(ended);
    expect(ended.code).toBe(0);
  });

  it('policy backtest: its own exit code (1 with --fail-on-change: every call changes)', async () => {
    const ended = await runAndCloseEarly([
      'policy',
      'backtest',
      policy,
      log,
      '--examples',
      '1000',
      '--fail-on-change',
    ]);
    quiet(ended);
    expect(ended.code).toBe(1);
  });

  it('audit verify, the reader gone before its first line: exit 0 (valid)', async () => {
    const ended = await runAndCloseEarly(['audit', 'verify', log], true);
    quiet(ended);
    expect(ended.code).toBe(0);
  });

  it('policy test: exit 0 (every case passes)', async () => {
    const ended = await runAndCloseEarly(['policy', 'test', policy, cases]);
    quiet(ended);
    expect(ended.code).toBe(0);
  });
});
