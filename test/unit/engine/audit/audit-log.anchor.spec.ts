import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import type { AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import {
  FileAuditStore,
  anchorPathFor,
  readAuditFile,
} from '../../../../lib/engine/audit/audit-log.file-store';
import { AuditStoreError } from '../../../../lib/engine/audit/audit.errors';

const input = (i: number): AuditEventInput => ({
  tenantId: 'local',
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action: `files.read.${i}`,
  parameters: { i },
  decision: 'ALLOW',
  reason: 'ok',
  kind: 'decision',
});

describe('FileAuditStore head anchor', () => {
  let dir: string;
  let file: string;
  let head: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-anchor-'));
    file = path.join(dir, 'audit.jsonl');
    head = anchorPathFor(file);
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const openLog = async () => {
    const log = new AuditLog({ store: new FileAuditStore(file, { durable: true }) });
    await log.open();
    return log;
  };

  it('names the last event of every batch, rewritten in place as one fixed-width record', async () => {
    const log = await openLog();
    const inodes = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const event = await log.append(input(i));
      const text = fs.readFileSync(head, 'utf8');
      // A JSON object padded with spaces: 128 bytes, the last one a newline.
      expect(Buffer.byteLength(text)).toBe(128);
      expect(text.endsWith(' \n')).toBe(true);
      expect(JSON.parse(text)).toEqual({ position: i, hash: event.hash });
      inodes.add(fs.statSync(head).ino);
    }
    expect(inodes.size).toBe(1);
    await log.close();
    const { records, anchor } = await readAuditFile(file);
    expect(anchor?.position).toBe(4);
    expect(verifyChain(records, anchor).valid).toBe(true);
  });

  it('accepts an anchor written as plain JSON (older versions, by hand) and replaces it whole', async () => {
    let log = await openLog();
    const first = await log.append(input(0));
    await log.close();
    // Longer than a record, so an in-place update would leave its tail behind.
    fs.writeFileSync(
      head,
      `${JSON.stringify({ position: 0, hash: first.hash })}${' '.repeat(300)}\n`,
    );

    log = await openLog();
    const second = await log.append(input(1));
    const text = fs.readFileSync(head, 'utf8');
    expect(Buffer.byteLength(text)).toBe(128);
    expect(JSON.parse(text)).toEqual({ position: 1, hash: second.hash });
    await log.close();
  });

  it('refuses to open, and verification reports, an anchor that is torn (no silent pass)', async () => {
    const log = await openLog();
    const event = await log.append(input(0));
    await log.close();
    // What a write torn after 40 bytes would leave: the new record's start, spaces after.
    const torn = JSON.stringify({ position: 0, hash: event.hash }).slice(0, 40);
    fs.writeFileSync(head, `${torn.padEnd(127, ' ')}\n`);

    const { records, anchor } = await readAuditFile(file);
    expect(verifyChain(records, anchor).valid).toBe(false);
    await expect(openLog()).rejects.toBeInstanceOf(AuditStoreError);
  });

  it('detects a cut tail after the anchor was updated in place', async () => {
    const log = await openLog();
    for (let i = 0; i < 3; i++) await log.append(input(i));
    await log.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n').slice(0, 2);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);

    const { records, anchor } = await readAuditFile(file);
    expect(verifyChain(records, anchor)).toMatchObject({ valid: false, firstBrokenPosition: 2 });
    await expect(openLog()).rejects.toBeInstanceOf(AuditStoreError);
  });
});
