/*
 * Finding 9: `provenance audit tail` printed the fields of the audit file as
 * they were, so a value written by an agent (an action, a session id, a
 * reason) or by whoever edited the file could move the cursor, erase the line
 * and print a fake one (ESC [2K CR ...), or reorder the text (bidi controls).
 * Every printed field now escapes C0, DEL, C1, U+2028/U+2029 and the bidi
 * controls as \uXXXX. Checked on the bytes a real child process writes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { auditInput, runCliProcess } from './security.helpers';

/** Everything that must never reach the terminal raw (a newline only as the line separator). */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const FAKE_LINE = '#99 2026-01-01T00:00:00.000Z ALLOW payments.initiate [decision] reason="fine"';
const HOSTILE = [
  `\u001b[2K\r${FAKE_LINE}`, // erase the line, back to column 0, print a fake one
  `x\n${FAKE_LINE}`, // a newline of its own
  '\u009b2J\u009bH', // C1 CSI: clear the screen
  'a\u2028b\u2029c', // line and paragraph separators
  'evil\u202etxt.exe\u2066\u2069\u200e\u200f\u061c', // bidi controls
  '\u0007\u0000\u007f\u0008', // bell, NUL, DEL, backspace
].join('|');

describe('provenance audit tail and verify escape control characters', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-tty-'));
    file = join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    await log.append(auditInput(0));
    await log.append(
      auditInput(1, {
        action: HOSTILE,
        sessionId: HOSTILE,
        agentId: HOSTILE,
        reason: HOSTILE,
        escalationId: HOSTILE,
        actorHumanId: HOSTILE,
        approverReason: HOSTILE,
        kind: 'escalation.approved',
      }),
    );
    await log.append(auditInput(2));
    await log.close();
    // The timestamp is the log's own; an edit of the file can put anything there too.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const edited = JSON.parse(lines[2]) as Record<string, unknown>;
    edited.timestamp = HOSTILE;
    edited.id = HOSTILE;
    lines[2] = JSON.stringify(edited);
    writeFileSync(file, `${lines.join('\n')}\n`);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('tail: one line per event, no control character, the values visible as escapes', () => {
    const run = runCliProcess(['audit', 'tail', file]);
    expect(run.status).toBe(0);
    const printed = run.stdout.split('\n');
    expect(printed.pop()).toBe('');
    expect(printed).toHaveLength(3);
    printed.forEach((line, index) => expect(line.startsWith(`#${index} `)).toBe(true));
    expect(run.stdout).not.toMatch(FORBIDDEN);
    expect(printed[1]).toContain('\\u001b[2K\\r#99');
    expect(printed[1]).toContain('\\u009b2J');
    expect(printed[1]).toContain('\\u202e');
    expect(printed[1]).toContain('\\u2028');
    expect(printed[1]).toContain('\\u0000');
    expect(printed[2]).toContain('\\u001b[2K');
    // The fake line is never a line of its own.
    expect(printed.filter((line) => line.startsWith('#99'))).toEqual([]);
  });

  it('verify: the hostile event id of an edited event is escaped too', () => {
    const run = runCliProcess(['audit', 'verify', file]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('BROKEN at position 2');
    expect(run.stdout).not.toMatch(FORBIDDEN);
    expect(run.stdout).toContain('\\u001b[2K');
  });
});
