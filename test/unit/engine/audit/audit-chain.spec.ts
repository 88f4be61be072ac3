import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyChain } from '../../../../lib/engine/audit/audit-chain';
import { GENESIS_HASH, type AuditEvent } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import { anchorPathFor, FileAuditStore } from '../../../../lib/engine/audit/audit-log.file-store';
import { AuditStoreError } from '../../../../lib/engine/audit/audit.errors';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('the audit chain', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-chain-'));
    file = path.join(dir, 'audit.jsonl');
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function writeLog(count: number): Promise<AuditEvent[]> {
    const log = await AuditLog.openFile(file, { durable: false });
    const events: AuditEvent[] = [];
    for (let i = 0; i < count; i++) {
      events.push(
        await log.append({
          tenantId: 't',
          sessionId: `s${i % 2}`,
          agentId: 'agent-1',
          action: i % 3 === 0 ? 'payments.initiate' : 'files.read',
          parameters: { i, note: 'é' },
          decision: i % 2 === 0 ? 'ALLOW' : 'BLOCK',
          reason: `reason ${i}`,
          kind: 'decision',
          escalationId: i === 4 ? 'esc-4' : null,
          actorHumanId: i === 4 ? 'alice' : null,
          approverReason: i === 4 ? 'ok' : undefined,
        }),
      );
    }
    await log.close();
    return events;
  }

  const lines = () => fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const writeLines = (rows: string[]) => fs.writeFileSync(file, rows.map((l) => `${l}\n`).join(''));
  const verifyFile = async () => {
    const store = new FileAuditStore(file);
    return verifyChain((await store.read()).records, (await store.read()).anchor);
  };

  it('starts at the reference genesis hash and hashes every field but hash', async () => {
    // sha256("PROVENANCE:GENESIS"), computed with Python's hashlib.
    expect(GENESIS_HASH).toBe('91e826c6a83999637ea7c25b26cef2f3bb6c6f9d1db8c8d8ef6de9e727232ad1');
    const [first, second] = await writeLog(2);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.prevHash).toBe(first.hash);
    // The canonical text written out by hand: keys by code point, no spaces, é escaped.
    const body =
      `{"action":"payments.initiate","actorHumanId":null,"agentId":"agent-1","decision":"ALLOW",` +
      `"escalationId":null,"id":"${first.id}","kind":"decision","parameters":{"i":0,"note":"\\u00e9"},` +
      `"payloadHash":"${sha256('{"i":0,"note":"\\u00e9"}')}","position":0,"prevHash":"${GENESIS_HASH}",` +
      `"reason":"reason 0","sessionId":"s0","tenantId":"t","timestamp":"${first.timestamp}"}`;
    expect(first.hash).toBe(sha256(body));
    expect(first.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The stored line is the canonical JSON of the whole event: `hash` sorts between escalationId and id.
    expect(lines()[0]).toBe(
      body.replace(`"escalationId":null,`, `"escalationId":null,"hash":"${first.hash}",`),
    );
    expect((await verifyFile()).valid).toBe(true);
  });

  const FIELDS: Array<[string, unknown]> = [
    ['position', 7],
    ['id', 'forged-id'],
    ['timestamp', '2000-01-01T00:00:00.000Z'],
    ['tenantId', 'other'],
    ['sessionId', 'other'],
    ['agentId', 'other'],
    ['action', 'payments.refund'],
    ['parameters', { i: 3, note: 'x' }],
    ['payloadHash', 'f'.repeat(64)],
    ['decision', 'ALLOW'],
    ['reason', 'edited'],
    ['escalationId', 'esc-x'],
    ['actorHumanId', 'mallory'],
    ['approverReason', 'added'],
    ['kind', 'escalation.approved'],
    ['prevHash', '0'.repeat(64)],
    ['hash', 'a'.repeat(64)],
  ];

  it.each(FIELDS)('detects an edit of %s, naming the position', async (field, value) => {
    await writeLog(6);
    const rows = lines();
    const event = JSON.parse(rows[3]) as Record<string, unknown>;
    expect(event[field]).not.toEqual(value);
    event[field] = value;
    rows[3] = JSON.stringify(event);
    writeLines(rows);
    const result = await verifyFile();
    expect(result.valid).toBe(false);
    expect(result.firstBrokenPosition).toBe(3);
    expect(result.violations[0].position).toBe(3);
    const expected =
      field === 'position'
        ? 'position-gap'
        : field === 'prevHash'
          ? 'prev-hash-mismatch'
          : 'hash-mismatch';
    expect(result.violations.map((v) => v.problem)).toContain(expected);
    expect(result.violations.map((v) => v.problem)).toContain('hash-mismatch');
  });

  it('detects a deleted event at its position', async () => {
    await writeLog(6);
    const rows = lines();
    rows.splice(2, 1);
    writeLines(rows);
    const result = await verifyFile();
    expect(result.firstBrokenPosition).toBe(2);
    expect(result.violations[0]).toMatchObject({
      position: 2,
      problem: 'position-gap',
      expected: 2,
      actual: 3,
    });
    expect(result.violations).toHaveLength(2); // the gap and the prevHash at the same place, no cascade
  });

  it('detects two swapped events at the first of them', async () => {
    await writeLog(6);
    const rows = lines();
    [rows[1], rows[2]] = [rows[2], rows[1]];
    writeLines(rows);
    const result = await verifyFile();
    expect(result.firstBrokenPosition).toBe(1);
    expect(result.violations[0].problem).toBe('position-gap');
  });

  it('detects an inserted copy and an inserted well-forged event', async () => {
    const events = await writeLog(6);
    const rows = lines();
    writeLines([...rows.slice(0, 4), rows[1], ...rows.slice(4)]);
    expect((await verifyFile()).firstBrokenPosition).toBe(4);

    // A forger who hashes his event correctly after event 1 still breaks the link to the next one.
    const forged = { ...events[2], id: 'forged', reason: 'forged' } as Record<string, unknown>;
    delete forged.hash;
    const { canonicalJson } = await import('../../../../lib/protocol/canonical-json');
    forged.hash = sha256(canonicalJson(forged));
    writeLines([...rows.slice(0, 2), JSON.stringify(forged), ...rows.slice(2)]);
    const result = await verifyFile();
    expect(result.firstBrokenPosition).toBe(3);
    expect(result.violations[0]).toMatchObject({ position: 3, problem: 'position-gap' });
  });

  it('detects a cut tail through the head anchor', async () => {
    await writeLog(6);
    writeLines(lines().slice(0, 4));
    const result = await verifyFile();
    expect(result.valid).toBe(false);
    expect(result.firstBrokenPosition).toBe(4);
    expect(result.violations[0]).toMatchObject({ problem: 'truncated', expected: 5, actual: 3 });
    await expect(AuditLog.openFile(file)).rejects.toThrow(AuditStoreError);
  });

  it('cannot detect a cut tail when the anchor is rewritten too (documented limit)', async () => {
    const events = await writeLog(6);
    writeLines(lines().slice(0, 4));
    fs.writeFileSync(anchorPathFor(file), JSON.stringify({ position: 3, hash: events[3].hash }));
    expect((await verifyFile()).valid).toBe(true);
  });

  it('refuses to continue a log edited in the middle', async () => {
    await writeLog(4);
    const rows = lines();
    rows[1] = 'not json';
    writeLines(rows);
    await expect(AuditLog.openFile(file)).rejects.toThrow(
      /line 2 \(position 1\) is not an audit event/,
    );
    const result = await verifyFile();
    expect(result.violations[0]).toMatchObject({ position: 1, problem: 'malformed' });
  });

  it('verifies an empty chain, and one in memory', () => {
    expect(verifyChain([])).toMatchObject({
      valid: true,
      eventsChecked: 0,
      firstBrokenPosition: null,
    });
  });
});
