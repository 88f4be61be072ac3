/*
 * Issue 13, step 2 (bounded memory): `provenance audit verify` streams the
 * log. The streamed reader yields exactly readAuditFile's lines and torn-tail
 * verdict (also for lines that straddle its 1 MiB chunks and multi-byte
 * characters cut by a chunk), the streamed verifier gives exactly
 * verifyChain's result, and it keeps only the records it is asked to keep.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import {
  parseStoredLine,
  readAuditFile,
  streamAuditFile,
} from '../../../../lib/engine/audit/audit-log.file-store';
import { verifyRecordStream } from '../../../../lib/engine/audit/audit-verify-stream';

describe('streamed verification', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-stream-'));
    file = path.join(dir, 'audit.jsonl');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function writeLog(count: number, pad: number): Promise<void> {
    const log = await AuditLog.openFile(file, { durable: false });
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      appends.push(
        log.append({
          tenantId: 't',
          sessionId: 's',
          agentId: 'a',
          action: 'tool.run',
          // Multi-byte characters of varying length move the line ends across chunk borders.
          parameters: { i, note: 'é€😀'.repeat((i * 7) % pad) },
          decision: 'ALLOW',
          reason: 'ok',
          kind: 'decision',
        }),
      );
    }
    await Promise.all(appends);
    await log.close();
  }

  async function streamed(): Promise<{ lines: string[]; torn: boolean }> {
    const stream = await streamAuditFile(file);
    const lines: string[] = [];
    for await (const line of stream.lines) lines.push(line);
    return { lines, torn: stream.tornTail() };
  }

  it('yields the lines readAuditFile reads, across 1 MiB chunk borders', async () => {
    await writeLog(1500, 400); // about 3 MB
    expect(fs.statSync(file).size).toBeGreaterThan(2 * (1 << 20));
    const whole = await readAuditFile(file);
    const { lines, torn } = await streamed();
    expect(lines).toEqual(whole.lines);
    expect(torn).toBe(false);
  });

  it('leaves out a torn last line and says so, as readAuditFile does', async () => {
    await writeLog(20, 10);
    fs.appendFileSync(file, '{"position":20,"half');
    const whole = await readAuditFile(file);
    const { lines, torn } = await streamed();
    expect(lines).toEqual(whole.lines);
    expect(torn).toBe(true);
    expect(whole.tornTail).toBe(true);
  });

  it("gives verifyChain's result, for a valid log and for an edited one", async () => {
    await writeLog(50, 10);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[7] = lines[7].replace('"decision":"ALLOW"', '"decision":"BLOCK"');
    lines[20] = '{"not":"an event"}';
    fs.writeFileSync(file, lines.join('\n'));
    const whole = await readAuditFile(file);
    const expected = verifyChain(whole.records, whole.anchor, { lines: whole.lines });
    const stream = await streamAuditFile(file);
    const records = (async function* () {
      for await (const line of stream.lines) yield { record: parseStoredLine(line), line };
    })();
    const { verification } = await verifyRecordStream(records, stream.anchor);
    expect(verification).toEqual(expected);
    expect(verification.valid).toBe(false);
    expect(verification.firstBrokenPosition).toBe(7);
  });

  it('keeps only the records it is asked for, and pulls one record at a time', async () => {
    let outstanding = 0;
    let most = 0;
    async function* records() {
      for (let i = 0; i < 10_000; i++) {
        outstanding++;
        most = Math.max(most, outstanding);
        yield { record: { malformed: `line ${i}` } };
        outstanding--;
      }
    }
    const { verification, lookup } = await verifyRecordStream(records(), null, (i) => i === 42);
    expect(verification.eventsChecked).toBe(10_000);
    expect(most).toBe(1);
    expect(lookup.length).toBe(10_000);
    expect(lookup.at(42)).toEqual({ malformed: 'line 42' });
    expect(lookup.at(41)).toBeUndefined();
  });
});
