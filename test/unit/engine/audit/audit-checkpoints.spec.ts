import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import {
  checkpointSignatureValid,
  checkpointSigningText,
  signCheckpoint,
  verifyCheckpoints,
  type AuditCheckpoint,
} from '../../../../lib/engine/audit/audit-checkpoints';
import type { AuditEventInput } from '../../../../lib/engine/audit/audit-event';
import { AuditLog } from '../../../../lib/engine/audit/audit-log';
import {
  FileAuditStore,
  checkpointPathFor,
  readAuditFile,
  readCheckpointFile,
} from '../../../../lib/engine/audit/audit-log.file-store';
import { MemoryAuditStore } from '../../../../lib/engine/audit/audit-log.memory-store';
import { AuditStoreError } from '../../../../lib/engine/audit/audit.errors';
import {
  generateSigningKeyPair,
  keyIdOf,
  loadPublicKey,
  loadSigningKey,
} from '../../../../lib/engine/audit/audit-signing';
import type { AuditStore } from '../../../../lib/engine/audit/audit-store';
import { ProvenanceConfigError } from '../../../../lib/protocol/provenance.errors';

const input = (i: number): AuditEventInput => ({
  tenantId: 'local',
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action: `tool.${i}`,
  parameters: { i },
  decision: 'ALLOW',
  reason: 'ok',
  kind: 'decision',
});

const HASH = 'a'.repeat(64);

describe('signing keys', () => {
  let dir: string;
  const pair = generateSigningKeyPair();

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-keys-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads a PEM text, a PEM file, a KeyObject, and a PEM with \\n written out (as an env var may hold it)', () => {
    const file = path.join(dir, 'key.pem');
    fs.writeFileSync(file, pair.privateKeyPem);
    const fromText = loadSigningKey(pair.privateKeyPem);
    expect(fromText.keyId).toBe(pair.keyId);
    expect(loadSigningKey(file).keyId).toBe(pair.keyId);
    expect(loadSigningKey(fromText.privateKey).keyId).toBe(pair.keyId);
    expect(loadSigningKey(pair.privateKeyPem.replace(/\n/g, '\\n')).keyId).toBe(pair.keyId);
    expect(keyIdOf(loadPublicKey(pair.publicKeyPem, 'x'))).toBe(pair.keyId);
    expect(pair.keyId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses what is not an Ed25519 private key, naming the option and never the key text', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaPem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const cases: unknown[] = [
      rsaPem,
      rsa.privateKey,
      loadSigningKey(pair.privateKeyPem).publicKey,
      pair.publicKeyPem,
      `${pair.privateKeyPem.slice(0, 60)}garbage-----END PRIVATE KEY-----`,
      'MC4CAQAwBQYDK2VwBCIEIGZ3c2VjcmV0a2V5bWF0ZXJpYWxub3RhcGF0aA==',
      path.join(dir, 'missing.pem'),
      42,
      '',
    ];
    for (const value of cases) {
      let error: unknown;
      try {
        loadSigningKey(value);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ProvenanceConfigError);
      const message = (error as Error).message;
      expect((error as ProvenanceConfigError).option).toBe('audit.signingKey');
      expect(message).toContain('audit.signingKey');
      expect(message).not.toContain('MC4CAQAw');
      expect(message).not.toMatch(/MII[A-Za-z0-9+/]{20}/);
    }
  });

  it('a loaded key shows no key material when inspected or serialised', () => {
    const key = loadSigningKey(pair.privateKeyPem);
    const secret = pair.privateKeyPem.split('\n')[1];
    expect(inspect(key, { depth: 10 })).not.toContain(secret);
    expect(JSON.stringify(key)).not.toContain(secret);
  });
});

describe('checkpoints: sign and verify', () => {
  const key = loadSigningKey(generateSigningKeyPair().privateKeyPem);
  const other = loadSigningKey(generateSigningKeyPair().privateKeyPem);
  const records = Array.from({ length: 5 }, (_, i) => ({ id: `e${i}`, hash: `${i}`.repeat(64) }));

  const signed = (position: number, reason: AuditCheckpoint['reason'] = 'count') =>
    signCheckpoint({ position, hash: records[position].hash }, key, reason, 'local');

  it('a checkpoint verifies under its key only, and any edited field breaks it', () => {
    const checkpoint = signed(4);
    expect(checkpoint).toMatchObject({
      type: 'provenance.audit.checkpoint',
      v: 1,
      position: 4,
      count: 5,
      tenantId: 'local',
      reason: 'count',
      keyId: key.keyId,
    });
    expect(checkpointSigningText(checkpoint as never)).toMatch(
      /^provenance\.audit\.checkpoint\.v1\n\{/,
    );
    expect(checkpointSignatureValid(checkpoint, key.publicKey)).toBe(true);
    expect(checkpointSignatureValid(checkpoint, other.publicKey)).toBe(false);
    for (const [field, value] of Object.entries({
      position: 3,
      hash: HASH,
      count: 4,
      time: new Date(0).toISOString(),
      tenantId: 'other',
      reason: 'close',
    })) {
      expect(checkpointSignatureValid({ ...checkpoint, [field]: value }, key.publicKey)).toBe(
        false,
      );
    }
  });

  it('verifyCheckpoints: valid, then each attack with its problem and position', () => {
    const verify = (
      cps: unknown[],
      recs: unknown[] = records,
      keys: KeyObject[] = [key.publicKey],
    ) => verifyCheckpoints(recs, cps, { publicKeys: keys });
    const ok = verify([signed(2), signed(4, 'close')]);
    expect(ok.violations).toEqual([]);
    expect(ok.summary).toMatchObject({
      found: 2,
      verified: 2,
      signedThrough: 4,
      unsignedEvents: 0,
      lastReason: 'close',
      keyIds: [key.keyId],
    });

    const rewritten = records.map((r, i) => (i === 2 ? { ...r, hash: HASH } : r));
    expect(verify([signed(2)], rewritten).violations).toEqual([
      expect.objectContaining({
        position: 2,
        problem: 'checkpoint-mismatch',
        expected: records[2].hash,
        actual: HASH,
      }),
    ]);
    expect(verify([signed(4)], records.slice(0, 3)).violations).toEqual([
      expect.objectContaining({
        position: 3,
        problem: 'checkpoint-truncated',
        expected: 4,
        actual: 2,
      }),
    ]);
    const forged = [...records, { id: 'forged', hash: HASH }];
    expect(verify([signed(4, 'close')], forged).violations).toEqual([
      expect.objectContaining({ position: 5, eventId: 'forged', problem: 'after-close' }),
    ]);
    // A reopening signed by the key makes the same events legitimate.
    expect(verify([signed(4, 'close'), signed(4, 'open')], forged).violations).toEqual([]);
    expect(verify([{ ...signed(2), reason: 'close' }]).violations).toEqual([
      expect.objectContaining({ position: 2, problem: 'checkpoint-signature' }),
    ]);
    const byOther = signCheckpoint({ position: 2, hash: records[2].hash }, other, 'count', 'local');
    expect(verify([byOther]).violations).toEqual([
      expect.objectContaining({
        position: 2,
        problem: 'checkpoint-signature',
        actual: other.keyId,
      }),
    ]);
    // Both keys given (a rotation): both verify.
    expect(
      verify([byOther, signed(4)], records, [key.publicKey, other.publicKey]).violations,
    ).toEqual([]);
    expect(verify([{ malformed: 'x' }, { position: 1 }]).violations.map((v) => v.problem)).toEqual([
      'checkpoint-malformed',
      'checkpoint-malformed',
    ]);
  });

  it('events after the last checkpoint are only counted, unless a signed head or checkpoints are required', () => {
    const partial = verifyCheckpoints(records, [signed(2)], { publicKeys: [key.publicKey] });
    expect(partial.violations).toEqual([]);
    expect(partial.summary).toMatchObject({ signedThrough: 2, unsignedEvents: 2 });
    expect(
      verifyCheckpoints(records, [signed(2)], {
        publicKeys: [key.publicKey],
        requireSignedHead: true,
      }).violations,
    ).toEqual([expect.objectContaining({ position: 3, problem: 'unsigned-head' })]);
    expect(verifyCheckpoints(records, [], { publicKeys: [key.publicKey] }).violations).toEqual([]);
    expect(
      verifyCheckpoints(records, [], { publicKeys: [key.publicKey], requireCheckpoints: true })
        .violations,
    ).toEqual([expect.objectContaining({ position: 0, problem: 'checkpoint-missing' })]);
  });
});

describe('AuditLog with a signing key', () => {
  let dir: string;
  let file: string;
  const pair = generateSigningKeyPair();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-checkpoints-'));
    file = path.join(dir, 'audit.jsonl');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const open = async (options: { everyEvents?: number; everyMs?: number } = {}) => {
    const log = new AuditLog({
      store: new FileAuditStore(file, { durable: false }),
      checkpoints: { signingKey: pair.privateKeyPem, tenantId: 'local', ...options },
    });
    await log.open();
    return log;
  };
  const checkpoints = async () => (await readCheckpointFile(file)).records as AuditCheckpoint[];

  it('signs every N events and at close; the file is 0600; the log verifies with them', async () => {
    const log = await open({ everyEvents: 5 });
    for (let i = 0; i < 12; i++) await log.append(input(i));
    const live = await log.verify();
    expect(live).toMatchObject({ valid: true, checkpoints: { verified: 2, signedThrough: 9 } });
    await log.close();
    const written = await checkpoints();
    expect(written.map((c) => [c.position, c.reason])).toEqual([
      [4, 'count'],
      [9, 'count'],
      [11, 'close'],
    ]);
    expect(fs.statSync(checkpointPathFor(file)).mode & 0o777).toBe(0o600);
    const { records } = await readAuditFile(file);
    const result = verifyCheckpoints(records, written, {
      publicKeys: [loadPublicKey(pair.publicKeyPem, 'key')],
      requireSignedHead: true,
    });
    expect(result.violations).toEqual([]);
  });

  it('signs after T ms when fewer than N events came, and an idle log keeps no timer', async () => {
    const log = await open({ everyEvents: 1000, everyMs: 40 });
    await log.append(input(0));
    await log.append(input(1));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await checkpoints()).map((c) => [c.position, c.reason])).toEqual([[1, 'interval']]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await checkpoints()).toHaveLength(1);
    await log.close();
    expect((await checkpoints()).map((c) => c.reason)).toEqual(['interval', 'close']);
  });

  it('reopening signs an `open` checkpoint first; closing again signs the new head', async () => {
    const first = await open();
    for (let i = 0; i < 3; i++) await first.append(input(i));
    await first.close();
    const second = await open();
    await second.append(input(3));
    await second.close();
    expect((await checkpoints()).map((c) => [c.position, c.reason])).toEqual([
      [2, 'close'],
      [2, 'open'],
      [3, 'close'],
    ]);
  });

  it('refuses to open a log that no longer matches a checkpoint of its own key, and changes nothing', async () => {
    const log = await open();
    for (let i = 0; i < 4; i++) await log.append(input(i));
    await log.close();
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    // Cut the tail and rewrite the anchor: consistent for the chain, not for the checkpoint.
    fs.writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);
    fs.writeFileSync(
      `${file}.head`,
      JSON.stringify({ position: 1, hash: JSON.parse(lines[1]).hash }),
    );
    const before = fs.readFileSync(checkpointPathFor(file));
    const refused = await open().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AuditStoreError);
    expect((refused as Error).message).toMatch(
      /checkpoint line 1 signs position 3, the log ends at 1/,
    );
    expect(fs.readFileSync(checkpointPathFor(file))).toEqual(before);
    // The store was released: a later append opens again and is refused the same way.
    const again = new AuditLog({
      store: new FileAuditStore(file, { durable: false }),
      checkpoints: { signingKey: pair.privateKeyPem },
    });
    await expect(again.append(input(9))).rejects.toThrow(/signs position 3/);
    await expect(again.append(input(9))).rejects.toThrow(/signs position 3/);
    await again.close();
  });

  it('refuses to open a log with events after its signed close (appended by someone else)', async () => {
    const log = await open();
    for (let i = 0; i < 2; i++) await log.append(input(i));
    await log.close();
    // Appended without the key: a plain log over the same file.
    const plain = await AuditLog.openFile(file, { durable: false });
    await plain.append(input(2));
    await plain.close();
    await expect(open()).rejects.toThrow(/closed at position 1 by a signed checkpoint/);
  });

  it('a checkpoint written by the log but removed from the file is reported by verify()', async () => {
    const log = await open({ everyEvents: 2 });
    for (let i = 0; i < 4; i++) await log.append(input(i));
    await new Promise((resolve) => setTimeout(resolve, 20));
    fs.writeFileSync(checkpointPathFor(file), '');
    const result = await log.verify();
    expect(result.valid).toBe(false);
    expect(result.violations.map((v) => v.problem)).toContain('checkpoint-missing');
    await log.close();
  });

  it('works over the memory store too; a store without checkpoints is refused at construction', async () => {
    const log = new AuditLog({
      store: new MemoryAuditStore(),
      checkpoints: { signingKey: pair.privateKeyPem, everyEvents: 2 },
    });
    for (let i = 0; i < 3; i++) await log.append(input(i));
    expect(await log.verify()).toMatchObject({ valid: true, checkpoints: { signedThrough: 1 } });
    await log.close();
    const bare: AuditStore = {
      description: 'bare',
      open: async () => [],
      append: async () => undefined,
      read: async () => ({ records: [], anchor: null, tornTail: false }),
      close: async () => undefined,
    };
    expect(
      () => new AuditLog({ store: bare, checkpoints: { signingKey: pair.privateKeyPem } }),
    ).toThrow(/cannot keep signed checkpoints/);
    expect(
      () =>
        new AuditLog({
          store: new MemoryAuditStore(),
          checkpoints: { signingKey: pair.privateKeyPem, everyEvents: 0 },
        }),
    ).toThrow(ProvenanceConfigError);
  });

  it('a failed checkpoint write fails the log closed: later appends are refused', async () => {
    const store = new MemoryAuditStore();
    let fail = false;
    const failing = Object.assign(Object.create(store) as MemoryAuditStore, {
      appendCheckpoint: async (checkpoint: AuditCheckpoint) => {
        if (fail) throw new Error('disk full');
        return store.appendCheckpoint(checkpoint);
      },
    });
    const log = new AuditLog({
      store: failing,
      checkpoints: { signingKey: pair.privateKeyPem, everyEvents: 1 },
    });
    await log.append(input(0));
    fail = true;
    await log.append(input(1)); // durable; its checkpoint fails behind it
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(log.append(input(2))).rejects.toThrow(/checkpoint|disk full/);
    await log.close();
  });
});
