/*
 * `provenance audit tail` streams the log and keeps only the last N lines (a
 * ring), so it works on a log of any length; the lines come out oldest first
 * whatever N is against the log's length, and a torn last line is left out.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAuditCommand } from '../../../lib/cli/audit.command';
import type { CliIO } from '../../../lib/cli/cli.io';
import { AuditLog } from '../../../lib/engine/audit/audit-log';

function positions(lines: string[]): number[] {
  return lines.map((line) => Number(/^#(\d+) /.exec(line)?.[1]));
}

async function tail(file: string, n: string): Promise<number[]> {
  const stdout: string[] = [];
  const io: CliIO = { out: (line) => stdout.push(line), err: () => undefined };
  expect(await runAuditCommand(['tail', file, '-n', n], io)).toBe(0);
  return positions(stdout);
}

describe('provenance audit tail, streamed', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-tail-'));
    file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 25; i++) {
      await log.append({
        tenantId: 'local',
        sessionId: 'sess_1',
        agentId: 'agent-1',
        action: `tool.${i}`,
        parameters: { i },
        decision: 'ALLOW',
        reason: 'r',
        kind: 'decision',
      });
    }
    await log.close();
    fs.appendFileSync(file, '{"position":25,"torn');
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the last N oldest first, for N below, at and above the length', async () => {
    expect(await tail(file, '7')).toEqual([18, 19, 20, 21, 22, 23, 24]);
    expect(await tail(file, '5')).toEqual([20, 21, 22, 23, 24]);
    expect(await tail(file, '25')).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await tail(file, '100')).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(await tail(file, '0')).toEqual([]);
  });
});
