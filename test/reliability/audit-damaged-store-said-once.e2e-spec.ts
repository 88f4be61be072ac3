/*
 * Issue 13: "a replica that refuses calls because its store is damaged says
 * so in its log, once, with the position". A damaged line makes every append
 * (so every gated call) fail; the AuditLog says why once per log, on
 * console.error: the file, the position and line of the damage, what is
 * wrong with it, and the command that shows it (which does show it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { FileAuditStore } from '../../lib/engine/audit/audit-log.file-store';
import { AuditStoreError } from '../../lib/engine/audit/audit.errors';

const ROOT = resolve(__dirname, '..', '..');

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

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection, but the call resolved');
}

describe('a damaged audit store is said once per log', () => {
  let dir: string;
  let file: string;
  let error: jest.SpyInstance;
  let warn: jest.SpyInstance;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-said-once-'));
    file = join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 4; i++) await log.append(input(i));
    await log.close();
    error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    error.mockRestore();
    warn.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  const said = () => [...error.mock.calls, ...warn.mock.calls].map((call) => String(call[0]));

  it('a damaged middle line: both appends reject, one log line with the file and the position', async () => {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"damaged":true}'; // line 3, position 2
    writeFileSync(file, lines.join('\n'));

    const log = new AuditLog({ store: new FileAuditStore(file, { durable: false }) });
    const first = await rejectionOf(log.append(input(10)));
    const second = await rejectionOf(log.append(input(11)));
    for (const refused of [first, second]) {
      expect(refused).toBeInstanceOf(AuditStoreError);
      expect((refused as AuditStoreError).position).toBe(2);
    }
    await rejectionOf(log.list());
    expect(said()).toHaveLength(1);
    expect(error).toHaveBeenCalledTimes(1);
    const [line] = said();
    expect(line).toContain(file);
    expect(line).toContain('position 2');
    expect(line).toContain('line 3');
    expect(line).toContain('not a well-formed event');
    expect(line).toContain(`provenance audit verify ${file}`);
    await log.close();
    // Nothing was written: the damaged file is left as evidence.
    expect(readFileSync(file, 'utf8')).toBe(lines.join('\n'));

    // Another log (a restarted replica) says it once too.
    const again = new AuditLog({ store: new FileAuditStore(file, { durable: false }) });
    await rejectionOf(again.append(input(12)));
    await rejectionOf(again.append(input(13)));
    expect(said()).toHaveLength(2);
    await again.close();

    // The command the line names shows the same position.
    const verify = spawnSync(
      process.execPath,
      [
        '-r',
        join(ROOT, 'scripts/swc-register.js'),
        join(ROOT, 'lib/cli/main.ts'),
        'audit',
        'verify',
        file,
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(verify.status).toBe(1);
    expect(verify.stdout + verify.stderr).toContain('BROKEN at position 2');
  }, 60_000);

  it('an append that fails: that one and every later one reject, said once', async () => {
    const store = new FileAuditStore(file, { durable: false });
    const log = new AuditLog({ store });
    await log.append(input(4));
    // The disk goes away under the store: its handle is closed behind its back.
    await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
    for (let i = 5; i < 9; i++) {
      expect(await rejectionOf(log.append(input(i)))).toBeInstanceOf(AuditStoreError);
    }
    expect(said()).toHaveLength(1);
    expect(said()[0]).toContain(file);
    expect(said()[0]).toContain(`provenance audit verify ${file}`);
    await log.close().catch(() => undefined);
  });

  it('a healthy log says nothing', async () => {
    const log = await AuditLog.openFile(file, { durable: false });
    await log.append(input(4));
    await log.close();
    expect(said()).toEqual([]);
  });
});
