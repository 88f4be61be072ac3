/*
 * Finding 7: start-up must not delete evidence. Only an unterminated last line
 * is a torn write (a crash mid-append: never acknowledged) and may be cut on
 * open. A complete (newline-terminated) line that is not an event, or an
 * unterminated tail that the head anchor says was acknowledged, is damage or
 * an edit: the store refuses to start, naming the file and the line, leaves the
 * file as it was, and `provenance audit verify` reports it at its position
 * (not as "truncated", which is what it said once the store had cut the line).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { AuditStoreError } from '../../lib/engine/audit/audit.errors';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import { bootToolApp, rejectionOf } from '../reliability/reliability.fixture';
import { runCliProcess } from './security.helpers';

const policy: PolicyDocument = {
  name: 'evidence',
  rules: [{ action: 'blocked.*', on_match: 'BLOCK', reason: 'never' }],
};

describe('start-up keeps the evidence of an edited last line', () => {
  let dir: string;
  let file: string;
  let original: string;
  let lines: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-evidence-'));
    file = join(dir, 'audit.jsonl');
    const booted = await bootToolApp({
      agentId: 'agent-evidence',
      policy,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      for (let i = 0; i < 4; i++) await booted.gateway.execute('read.file', { i });
      await booted.gateway.execute('blocked.delete', { id: 7 }).catch(() => undefined);
    } finally {
      await booted.app.close();
    }
    original = readFileSync(file, 'utf8');
    lines = original.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4]).decision).toBe('BLOCK');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const withLastLine = (last: string, terminated = true): string =>
    [...lines.slice(0, 4), last].join('\n') + (terminated ? '\n' : '');

  /** The app refuses on its first call (the store opens then), naming the file and the line. */
  async function expectRefusedStart(content: string, line: RegExp): Promise<void> {
    writeFileSync(file, content);
    const booted = await bootToolApp({
      agentId: 'agent-evidence',
      policy,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      const error = await rejectionOf(booted.gateway.execute('read.file', { i: 9 }));
      const text = `${error.message} ${String((error as { cause?: unknown }).cause)}`;
      expect(text).toContain(file);
      expect(text).toMatch(line);
    } finally {
      await booted.app.close();
    }
    // Nothing was cut or appended: the evidence is where it was.
    expect(readFileSync(file, 'utf8')).toBe(content);
    const opened = await rejectionOf(AuditLog.openFile(file));
    expect(opened).toBeInstanceOf(AuditStoreError);
    expect(readFileSync(file, 'utf8')).toBe(content);
  }

  it('a complete last line edited so it no longer parses: refused, kept, verify says where', async () => {
    // The BLOCK line with its decision rewritten by hand, and a quote lost on the way.
    const edited = lines[4].replace('"decision":"BLOCK"', '"decision":"ALLOW').slice(0, -2);
    const content = withLastLine(edited);
    await expectRefusedStart(content, /line 5 \(position 4\)/);
    const verify = runCliProcess(['audit', 'verify', file]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain(`${file}: BROKEN at position 4 `);
    expect(verify.stdout).toMatch(/position 4: malformed/);
    expect(verify.stdout).not.toContain('truncated');
  });

  it('a complete last line that is JSON but not an event: refused and kept', async () => {
    await expectRefusedStart(withLastLine('{"decision":"ALLOW"}'), /line 5 \(position 4\)/);
    const verify = runCliProcess(['audit', 'verify', file]);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toMatch(/position 4: malformed/);
    expect(verify.stdout).not.toContain('truncated');
  });

  it('an acknowledged last line whose newline was removed is not a torn write: refused and kept', async () => {
    await expectRefusedStart(withLastLine(lines[4], false), /position 4/);
  });

  it('a torn tail (an unterminated line past the anchor) is still cut, and the app goes on', async () => {
    const content = `${original}{"position":5,"id":"torn`;
    writeFileSync(file, content);
    const booted = await bootToolApp({
      agentId: 'agent-evidence',
      policy,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      const result = await booted.gateway.execute('read.file', { i: 9 });
      expect(result.allowed).toBe(true);
    } finally {
      await booted.app.close();
    }
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(original)).toBe(true);
    expect(after.trimEnd().split('\n')).toHaveLength(6);
    expect(runCliProcess(['audit', 'verify', file]).status).toBe(0);
  });
});
