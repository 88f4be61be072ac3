import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import type { AuditEvent, AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import {
  DEFAULT_AUDIT_FILE,
  FileAuditStore,
  readAuditFile,
} from '../../../../lib/engine/audit/audit-log.file-store';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import { AuditStoreError, CanonicalJsonError } from '../../../../lib/engine/audit/audit.errors';
import type { AuditStore } from '../../../../lib/engine/audit/audit-store';

const input = (over: Partial<AuditEventInput> = {}): AuditEventInput => ({
  tenantId: 'local',
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action: 'files.read',
  parameters: { path: '/tmp/x' },
  decision: 'ALLOW',
  reason: 'ok',
  kind: 'decision',
  ...over,
});

/** A real file store that also counts its batches, to see group commit happen. */
class CountingFileStore extends FileAuditStore {
  batches: number[] = [];
  override async append(events: readonly AuditEvent[]): Promise<void> {
    this.batches.push(events.length);
    await super.append(events);
  }
}

describe('AuditLog', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-log-'));
    file = path.join(dir, 'nested', 'dir', 'audit.jsonl');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the chain straight under 1000 concurrent appends, grouping them into few fsyncs', async () => {
    const store = new CountingFileStore(file, { durable: true });
    const log = new AuditLog({ store });
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        log.append(input({ action: `a.${i}`, parameters: { i } })),
      ),
    );
    // Each caller gets its own event back, in call order.
    results.forEach((event, i) => {
      expect(event.position).toBe(i);
      expect(event.action).toBe(`a.${i}`);
    });
    expect(store.batches.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(store.batches.length).toBeLessThan(1000);
    await log.close();

    const { records, anchor, tornTail } = await readAuditFile(file);
    expect(tornTail).toBe(false);
    expect(records.map((r) => (r as AuditEvent).position)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    expect(anchor).toEqual({ position: 999, hash: results[999].hash });
    expect(verifyChain(records, anchor).valid).toBe(true);
  });

  it('continues the chain after reopening', async () => {
    const first = await AuditLog.openFile(file);
    await first.append(input());
    await first.append(input());
    await first.close();
    const second = await AuditLog.openFile(file);
    const third = await second.append(input());
    expect(third.position).toBe(2);
    expect(third.prevHash).toBe((await second.list())[1].hash);
    expect((await second.verify()).valid).toBe(true);
    await second.close();
  });

  it('cuts a torn (unterminated) last line away on reopen; refuses a complete one that does not parse', async () => {
    const log = await AuditLog.openFile(file);
    for (let i = 0; i < 3; i++) await log.append(input({ parameters: { i } }));
    await log.close();
    const good = fs.readFileSync(file);

    fs.appendFileSync(file, '{"position":3,"id":"torn'); // a crash mid-write: no newline
    expect((await readAuditFile(file)).tornTail).toBe(true);
    const reopened = await AuditLog.openFile(file);
    expect(fs.readFileSync(file)).toEqual(good);
    expect(reopened.size).toBe(3);
    const next = await reopened.append(input());
    expect(next.position).toBe(3);
    await reopened.close();

    // A complete line is not a torn write, whatever it holds (zeros a power loss
    // left on some file systems included): start-up refuses, and cuts nothing.
    const four = fs.readFileSync(file);
    fs.appendFileSync(file, '\u0000\u0000\u0000\n');
    const damaged = fs.readFileSync(file);
    const refused = await AuditLog.openFile(file).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuditStoreError);
    expect((refused as AuditStoreError).message).toMatch(
      /line 5 \(position 4\) is not an audit event/,
    );
    expect((refused as AuditStoreError).position).toBe(4);
    expect(fs.readFileSync(file)).toEqual(damaged);
    // Repaired by hand (the line removed), the log opens again.
    fs.writeFileSync(file, four);
    const again = await AuditLog.openFile(file);
    expect(again.size).toBe(4);
    expect((await again.verify()).valid).toBe(true);
    await again.close();
  });

  it('lists and counts with filters, most recent `limit` last', async () => {
    const log = new AuditLog();
    await log.append(input({ sessionId: 'a', decision: 'ALLOW', action: 'x' }));
    await log.append(input({ sessionId: 'b', decision: 'BLOCK', action: 'y', agentId: 'other' }));
    await log.append(input({ sessionId: 'a', decision: 'BLOCK', action: 'x' }));
    expect((await log.list({ sessionId: 'a' })).map((e) => e.position)).toEqual([0, 2]);
    expect(await log.count({ decision: 'BLOCK' })).toBe(2);
    expect(await log.count({ agentId: 'other' })).toBe(1);
    expect((await log.list({ limit: 2 })).map((e) => e.position)).toEqual([1, 2]);
    expect(await log.count({ since: '2999-01-01T00:00:00Z' })).toBe(0);
    expect(await log.count({ until: new Date(Date.now() + 60_000) })).toBe(3);
    expect((await log.verify()).valid).toBe(true);
    await log.close();
  });

  it('normalises parameters (Dates become strings) and refuses what cannot be hashed', async () => {
    const log = new AuditLog({ store: new MemoryAuditStore() });
    const event = await log.append(input({ parameters: { at: new Date(0) } }));
    expect(event.parameters).toEqual({ at: '1970-01-01T00:00:00.000Z' });
    await expect(log.append(input({ parameters: { n: 1n } }))).rejects.toThrow(CanonicalJsonError);
    expect(log.size).toBe(1);
    await log.close();
    await expect(log.append(input())).rejects.toThrow(AuditStoreError);
  });

  it('fails closed after a store failure: every later append is refused', async () => {
    let calls = 0;
    const failing: AuditStore = {
      description: 'failing',
      open: async () => [],
      append: async () => {
        calls++;
        throw new Error('disk full');
      },
      read: async () => ({ records: [], anchor: null, tornTail: false }),
      close: async () => undefined,
    };
    const log = new AuditLog({ store: failing });
    await expect(log.append(input())).rejects.toThrow('disk full');
    await expect(log.append(input())).rejects.toThrow(/earlier write to the audit log failed/);
    expect(calls).toBe(1);
    await log.close();
  });

  it('uses .provenance/audit.jsonl by default', () => {
    expect(DEFAULT_AUDIT_FILE).toBe(path.join('.provenance', 'audit.jsonl'));
    expect(new FileAuditStore().description).toBe(DEFAULT_AUDIT_FILE);
  });
});
