/*
 * Finding 8 (lines): a line that parses to a valid event but is not
 * byte-for-byte the canonical text of that event was accepted, because the
 * hash is computed from the parsed event. A duplicate key ("decision":"ALLOW"
 * in front of a BLOCK line: JSON.parse keeps the last, a human reader or
 * another parser may see the first), CRLF, a \u0065 escape, 5e1 for 50 all
 * hash as the original. The writer only ever writes canonical text, so
 * verification (AuditLog.verify, `provenance audit verify`) flags any other
 * bytes, at their position.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeEventHash } from '../../lib/engine/audit/audit-event';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { FileAuditStore } from '../../lib/engine/audit/audit-log.file-store';
import { runCli } from '../../lib/cli/main';
import { auditInput, runCliProcess } from './security.helpers';

describe('verification refuses lines that are not the canonical text of their event', () => {
  let dir: string;
  let file: string;
  let original: string;
  let lines: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-canonical-'));
    file = join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 5; i++) await log.append(auditInput(i));
    await log.close();
    original = readFileSync(file, 'utf8');
    lines = original.trimEnd().split('\n');
    expect(JSON.parse(lines[1])).toMatchObject({ decision: 'BLOCK', reason: 'because 1' });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const edits: Array<[string, (line: string) => string]> = [
    ['a duplicate key in front of the real one', (line) => `{"decision":"ALLOW",${line.slice(1)}`],
    ['a CRLF line ending', (line) => `${line}\r`],
    ['a \\u0065 escape for "e"', (line) => line.replace('"because 1"', '"b\\u0065cause 1"')],
    ['5e1 for 50', (line) => line.replace('"amount":50', '"amount":5e1')],
    ['a space after a colon', (line) => line.replace('"decision":"BLOCK"', '"decision": "BLOCK"')],
  ];

  it.each(edits)(
    '%s: the event still hashes, and verification flags position 1',
    async (_, edit) => {
      const changed = edit(lines[1]);
      expect(changed).not.toBe(lines[1]);
      // The blind spot: the parsed event is the original one, so its hash still holds.
      const parsed = JSON.parse(changed);
      expect(parsed).toEqual(JSON.parse(lines[1]));
      expect(computeEventHash(parsed)).toBe(parsed.hash);
      writeFileSync(file, original.replace(`${lines[1]}\n`, `${changed}\n`));

      const log = new AuditLog({ store: new FileAuditStore(file) });
      const result = await log.verify();
      expect(result).toMatchObject({ valid: false, firstBrokenPosition: 1 });
      expect(result.violations).toEqual([
        expect.objectContaining({ position: 1, problem: 'non-canonical', eventId: parsed.id }),
      ]);
      await log.close();

      const out: string[] = [];
      const code = await runCli(['audit', 'verify', file], {
        out: (l) => out.push(l),
        err: (l) => out.push(l),
      });
      expect(code).toBe(1);
      expect(out[0]).toContain(`${file}: BROKEN at position 1 `);
      expect(out.join('\n')).toMatch(/position 1 event \S+: non-canonical/);
    },
  );

  it('the untouched file stays valid, and a real child process agrees on a duplicate key', () => {
    writeFileSync(file, original);
    expect(runCliProcess(['audit', 'verify', file]).status).toBe(0);
    writeFileSync(file, original.replace(lines[1], `{"decision":"ALLOW",${lines[1].slice(1)}`));
    const run = runCliProcess(['audit', 'verify', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('BROKEN at position 1');
    writeFileSync(file, original);
  });
});
