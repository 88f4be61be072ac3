/*
 * Issue 7, item 5: tampering with the audit file that a real embedded-gateway
 * app wrote. Every single-field edit of every event, a deletion, a swap, an
 * insertion and a cut tail must be found by `gateway.audit.verify()` and by
 * `provenance audit verify FILE` (in-process and as a real child process),
 * which must name the first broken position. The expected position is worked
 * out from the edit itself (docs/protocol.md: "verification names the first broken
 * position"), never read from the verifier.
 *
 * What the design cannot detect (asserted below, so that a change is noticed):
 * a forged event appended with a correct hash, a rewrite that recomputes every
 * hash and the head anchor, and a cut tail whose anchor was removed or rewritten.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { filter, firstValueFrom } from 'rxjs';
import { PolicyBlockedError, EscalationRejectedError } from '../../lib/protocol/provenance.errors';
import { runCli } from '../../lib/cli/main';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import type { ProvenanceGateway } from '../../lib/gateway/provenance.gateway';
import { bootToolApp, type ToolApp } from './reliability.fixture';

const ROOT = resolve(__dirname, '..', '..');

const policy: PolicyDocument = {
  name: 'tamper',
  rules: [
    {
      action: 'pay',
      conditions: [{ field: 'amount', operator: '>', value: 100 }],
      on_match: 'ESCALATE',
      reason: 'a human signs large payments',
    },
    { action: 'blocked.*', on_match: 'BLOCK', reason: 'never' },
  ],
};

type Line = Record<string, unknown>;

/** Another value of the same type, so the line stays a well-formed event. */
function edited(field: string, value: unknown): unknown {
  if (field === 'position') return (value as number) + 1;
  if (['prevHash', 'hash', 'payloadHash'].includes(field)) {
    const hex = value as string;
    return hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');
  }
  if (field === 'decision') return value === 'ALLOW' ? 'BLOCK' : 'ALLOW';
  if (field === 'kind') return value === 'decision' ? 'escalation.approved' : 'decision';
  if (field === 'timestamp') return new Date(Date.parse(value as string) + 1).toISOString();
  if (field === 'parameters') return value === null ? { amount: 1 } : { ...value!, amount: 1 };
  if (value === null || value === undefined) return 'mallory';
  return `${value as string}x`;
}

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, out: lines.join('\n') };
}

describe('tampering with the audit file of a real app (item 5)', () => {
  let dir: string;
  let file: string;
  let booted: ToolApp;
  let provenance: ProvenanceGateway;
  let original: string;
  let originalHead: string;
  let lines: Line[];

  const escalate = async (amount: number, verdict: 'APPROVE' | 'REJECT'): Promise<void> => {
    const pending = firstValueFrom(
      provenance.escalations$.pipe(filter((event) => event.type === 'pending')),
    );
    const call = provenance.execute('pay', { amount, to: 'ACME Ltd' });
    const { escalationId } = await pending;
    await provenance.gatewayTransport.decide(escalationId, verdict, {
      approverId: 'alice',
      reason: verdict === 'APPROVE' ? 'invoice checked' : null,
    });
    if (verdict === 'APPROVE') await call;
    else await expect(call).rejects.toBeInstanceOf(EscalationRejectedError);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-tamper-'));
    file = join(dir, 'audit.jsonl');
    booted = await bootToolApp({
      agentId: 'agent-tamper',
      policy,
      audit: { store: 'file', path: file, durable: true },
    });
    provenance = booted.gateway;
    await provenance.execute('read.file', { path: '/etc/motd' });
    await expect(provenance.execute('blocked.delete', { id: 7 })).rejects.toBeInstanceOf(
      PolicyBlockedError,
    );
    await escalate(500, 'APPROVE');
    await escalate(900, 'REJECT');
    await booted.tool.run('café ☕'); // non-ASCII goes through canonical JSON escaping
    await provenance.execute('noop');
    original = readFileSync(file, 'utf8');
    originalHead = readFileSync(`${file}.head`, 'utf8');
    lines = original
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
  });

  afterAll(async () => {
    await booted.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    writeFileSync(file, original);
    writeFileSync(`${file}.head`, originalHead);
  });

  // Written as the log writes its lines (canonical JSON): verification also
  // refuses a line whose bytes are not that text (another escape of a non-ASCII
  // character included), and these cases are about the chain, not the bytes.
  const write = (records: Line[]): void =>
    writeFileSync(file, records.map((record) => `${canonicalJson(record)}\n`).join(''));

  /** Both verifiers see the damage and name `position` as the first broken one. */
  const expectBrokenAt = async (position: number): Promise<void> => {
    const result = await provenance.audit!.verify();
    expect({ valid: result.valid, first: result.firstBrokenPosition }).toEqual({
      valid: false,
      first: position,
    });
    const { code, out } = await cli('audit', 'verify', file);
    expect(code).toBe(1);
    expect(out).toContain(`${file}: BROKEN at position ${position} `);
  };

  it('the untouched file is valid for verify() and the CLI, with a head anchor at the last event', async () => {
    expect(lines.map((l) => l.kind)).toEqual([
      'decision',
      'decision',
      'escalation.pending',
      'escalation.approved',
      'escalation.pending',
      'escalation.rejected',
      'decision',
      'decision',
    ]);
    expect(lines[3].approverReason).toBe('invoice checked');
    expect(JSON.parse(originalHead)).toEqual({ position: 7, hash: lines[7].hash });
    expect(await provenance.audit!.verify()).toMatchObject({ valid: true, eventsChecked: 8 });
    const { code, out } = await cli('audit', 'verify', file);
    expect({ code, out }).toEqual({
      code: 0,
      out: `${file}: valid, 8 event(s) checked, head anchor at 7`,
    });
  });

  it('every single-field edit of every event is detected at that event', async () => {
    const fields = [
      'position',
      'id',
      'timestamp',
      'tenantId',
      'sessionId',
      'agentId',
      'action',
      'parameters',
      'payloadHash',
      'decision',
      'reason',
      'escalationId',
      'actorHumanId',
      'approverReason',
      'kind',
      'prevHash',
      'hash',
    ];
    let cases = 0;
    for (let position = 0; position < lines.length; position++) {
      for (const field of fields) {
        const records = lines.map((line) => ({ ...line }));
        records[position][field] = edited(field, records[position][field]);
        write(records);
        try {
          await expectBrokenAt(position);
        } catch (error) {
          throw new Error(`edit of ${field} at ${position} not reported there: ${String(error)}`);
        }
        cases++;
      }
    }
    expect(cases).toBe(8 * 17);
  });

  it.each([0, 3, 7])('deleting the event at %i is detected there', async (position) => {
    write(lines.filter((_, index) => index !== position));
    await expectBrokenAt(position);
  });

  it.each([0, 2, 6])(
    'swapping the events at %i and the next is detected there',
    async (position) => {
      const records = [...lines];
      [records[position], records[position + 1]] = [records[position + 1], records[position]];
      write(records);
      await expectBrokenAt(position);
    },
  );

  it.each([0, 4])('inserting a copy of an event at %i is detected there', async (position) => {
    const records = [...lines];
    records.splice(position, 0, { ...lines[(position + 3) % lines.length] });
    write(records);
    await expectBrokenAt(position);
  });

  it('a line that is not JSON in the middle is detected there', async () => {
    writeFileSync(
      file,
      original
        .split('\n')
        .map((line, index) => (index === 2 ? line.slice(0, 40) : line))
        .join('\n'),
    );
    await expectBrokenAt(2);
  });

  describe('a cut tail', () => {
    it.each([1, 3, 8])(
      'removing the last %i event(s) is caught by the head anchor, at the first missing position',
      async (removed) => {
        write(lines.slice(0, lines.length - removed));
        await expectBrokenAt(lines.length - removed);
        const { out } = await cli('audit', 'verify', file);
        expect(out).toContain('truncated');
      },
    );

    it('cutting inside the last line (a torn write of an acknowledged event) is caught', async () => {
      writeFileSync(file, original.slice(0, original.length - 30));
      await expectBrokenAt(7);
    });

    // The limits of a hash chain plus a head anchor kept next to the log.
    it('NOT detectable: the tail cut and the anchor rewritten to the new last event', async () => {
      write(lines.slice(0, 6));
      writeFileSync(`${file}.head`, `${JSON.stringify({ position: 5, hash: lines[5].hash })}\n`);
      expect((await provenance.audit!.verify()).valid).toBe(true);
    });

    it('NOT detectable: the tail cut and the anchor deleted (the CLI says "no head anchor")', async () => {
      write(lines.slice(0, 6));
      unlinkSync(`${file}.head`);
      expect((await provenance.audit!.verify()).valid).toBe(true);
      expect((await cli('audit', 'verify', file)).out).toContain('no head anchor');
    });

    it('NOT detectable: a forged event appended with a correct hash (the anchor is a lower bound)', async () => {
      const last = lines[7];
      const body: Line = {
        ...last,
        position: 8,
        id: 'forged',
        prevHash: last.hash,
        decision: 'ALLOW',
      };
      delete body.hash;
      // Recomputed exactly as the chain does: sha256 of the canonical JSON of every other field.
      const canonical = canonicalJson(body);
      write([...lines, { ...body, hash: createHash('sha256').update(canonical).digest('hex') }]);
      expect((await provenance.audit!.verify()).valid).toBe(true);
    });
  });

  it('a real `provenance audit verify` child process reports the position and exits 1 (0 when intact)', () => {
    const run = (): { status: number | null; stdout: string } =>
      spawnSync(
        process.execPath,
        [
          '-r',
          join(ROOT, 'scripts/swc-register.js'),
          join(ROOT, 'lib/cli/main.ts'),
          'audit',
          'verify',
          file,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      );
    const intact = run();
    expect(intact.status).toBe(0);
    expect(intact.stdout).toContain('valid, 8 event(s) checked');

    const records = lines.map((line) => ({ ...line }));
    records[4].reason = 'nothing to see here';
    write(records);
    const broken = run();
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`${file}: BROKEN at position 4 `);
    expect(broken.stdout).toMatch(/position 4 event \S+: hash-mismatch/);
  });

  it('the app refuses to continue a tampered log on the next start', async () => {
    const records = lines.map((line) => ({ ...line }));
    records[7].reason = 'approved by nobody';
    const copy = join(dir, 'copy.jsonl');
    writeFileSync(copy, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    writeFileSync(`${copy}.head`, originalHead);
    await expect(
      bootToolApp({ agentId: 'agent-tamper', policy, audit: { store: 'file', path: copy } }).then(
        async (app) => {
          // The store opens on the first append: that is where it must refuse.
          try {
            await app.gateway.execute('read.file', { path: '/x' });
          } finally {
            await app.app.close();
          }
        },
      ),
    ).rejects.toThrow(/audit/i);
    expect(existsSync(copy)).toBe(true);
  });

  it('an edit before the tail does not stop the app, and stays reported after new appends', async () => {
    // Opening checks shapes, positions, the last hash and the anchor, not every
    // hash (that is verify()'s job); appending cannot repair the break.
    const records = lines.map((line) => ({ ...line }));
    records[2].reason = 'no human needed';
    const copy = join(dir, 'middle.jsonl');
    writeFileSync(copy, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    writeFileSync(`${copy}.head`, originalHead);
    const app = await bootToolApp({
      agentId: 'agent-tamper',
      policy,
      audit: { store: 'file', path: copy },
    });
    try {
      await app.gateway.execute('read.file', { path: '/x' });
      const result = await app.gateway.audit!.verify();
      expect({
        valid: result.valid,
        first: result.firstBrokenPosition,
        n: result.eventsChecked,
      }).toEqual({
        valid: false,
        first: 2,
        n: 9,
      });
    } finally {
      await app.app.close();
    }
  });
});

/** Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True) for JSON values, written here from docs/protocol.md. */
function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((key) => `${canonicalJson(key)}:${canonicalJson((value as Line)[key])}`).join(',')}}`;
  }
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  return JSON.stringify(value);
}
