import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAuditCommand } from '../../../lib/cli/audit.command';
import type { CliIO } from '../../../lib/cli/cli.io';
import { AuditLog } from '../../../lib/engine/audit/audit-log';

function capture(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('provenance audit', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
    file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 5; i++) {
      await log.append({
        tenantId: 'local',
        sessionId: 'sess_1',
        agentId: 'agent-1',
        action: `tool.${i}`,
        parameters: { i },
        decision: i === 3 ? 'BLOCK' : 'ALLOW',
        reason: `because ${i}`,
        kind: 'decision',
        escalationId: i === 4 ? 'esc-1' : null,
        actorHumanId: i === 4 ? 'alice' : null,
      });
    }
    await log.close();
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('verify: exit 0 for a valid log', async () => {
    const io = capture();
    expect(await runAuditCommand(['verify', file], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/valid, 5 event\(s\) checked, head anchor at 4/);
  });

  it('verify: exit 1 naming the first broken position and why', async () => {
    const rows = fs.readFileSync(file, 'utf8').split('\n');
    rows[2] = rows[2].replace('"because 2"', '"because I say so"');
    fs.writeFileSync(file, rows.join('\n'));
    const io = capture();
    expect(await runAuditCommand(['verify', file], io)).toBe(1);
    expect(io.stdout[0]).toMatch(/BROKEN at position 2/);
    expect(io.stdout[1]).toMatch(/position 2 event \S+: hash-mismatch: .*a field was edited/);
  });

  it('verify: exit 2 for an unreadable file or bad usage', async () => {
    const io = capture();
    expect(await runAuditCommand(['verify', path.join(dir, 'missing.jsonl')], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/cannot read/);
    expect(await runAuditCommand(['verify'], capture())).toBe(2);
    expect(await runAuditCommand([], capture())).toBe(2);
    expect(await runAuditCommand(['frobnicate'], capture())).toBe(2);
  });

  it('tail: the last N events, one readable line each', async () => {
    const io = capture();
    expect(await runAuditCommand(['tail', file, '-n', '2'], io)).toBe(0);
    expect(io.stdout).toHaveLength(2);
    expect(io.stdout[0]).toMatch(
      /^#3 \d{4}-\d\d-\d\dT[\d:.]+Z BLOCK tool\.3 \[decision\] session=sess_1 agent=agent-1 reason="because 3"$/,
    );
    expect(io.stdout[1]).toMatch(/^#4 .* escalation=esc-1 by=alice reason="because 4"$/);
    const all = capture();
    expect(await runAuditCommand(['tail', file], all)).toBe(0);
    expect(all.stdout).toHaveLength(5);
    expect(await runAuditCommand(['tail', file, '-n', 'x'], capture())).toBe(2);
  });
});
