/*
 * Signed checkpoints: what a hash chain and an anchor kept next to the log
 * cannot detect (test/reliability/audit-tampering pins those as NOT
 * detectable), a verifier holding only the public key can, for every event up
 * to the last checkpoint. A real app (ProvenanceModule.forRoot with
 * audit.signingKey, then PROVENANCE_AUDIT_SIGNING_KEY as a path) writes the
 * log; `provenance audit` runs as a child process throughout.
 *
 * Each attack is pinned both ways: undetected by `verify FILE`, detected by
 * `verify FILE --public-key KEY`.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCheckpoint, type AuditCheckpoint } from '../../lib/engine/audit/audit-checkpoints';
import { checkpointPathFor } from '../../lib/engine/audit/audit-log.file-store';
import { generateSigningKeyPair, loadSigningKey } from '../../lib/engine/audit/audit-signing';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import { canonicalJson, sha256Hex } from '../../lib/protocol/canonical-json';
import { PolicyBlockedError } from '../../lib/protocol/provenance.errors';
import { bootToolApp, rejectionOf } from '../reliability/reliability.fixture';
import { runCliProcess } from './security.helpers';

const policy: PolicyDocument = {
  name: 'signed',
  rules: [{ action: 'blocked.*', on_match: 'BLOCK', reason: 'never' }],
};

type Line = Record<string, unknown>;

describe('signed checkpoints: a real app signs its log, an auditor verifies it offline', () => {
  let dir: string;
  let file: string;
  let privateKey: string;
  let publicKey: string;
  let original: { log: string; head: string; checkpoints: string };
  let lines: Line[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-signed-'));
    file = join(dir, 'audit.jsonl');
    const keygen = runCliProcess(['audit', 'keygen', join(dir, 'signing')]);
    expect(keygen.status).toBe(0);
    privateKey = join(dir, 'signing.key.pem');
    publicKey = join(dir, 'signing.pub.pem');
    expect(statSync(privateKey).mode & 0o777).toBe(0o600);
    expect(keygen.stdout).toMatch(/key id [0-9a-f]{64}/);

    // First run: the key as PEM text in the module's options.
    const first = await bootToolApp({
      agentId: 'agent-signed',
      policy,
      audit: {
        store: 'file',
        path: file,
        durable: false,
        signingKey: readFileSync(privateKey, 'utf8'),
      },
    });
    try {
      await first.gateway.execute('read.file', { path: '/etc/motd' });
      await expect(first.gateway.execute('blocked.delete', { id: 7 })).rejects.toBeInstanceOf(
        PolicyBlockedError,
      );
      await first.tool.run('café ☕');
      await first.gateway.execute('noop');
      await first.gateway.execute('email.send', { to: 'a@example.com' });
      await first.gateway.execute('email.send', { to: 'b@example.com' });
      expect(await first.gateway.audit!.verify()).toMatchObject({
        valid: true,
        checkpoints: { verified: 0, signedThrough: null },
      });
    } finally {
      await first.app.close();
    }
    // Second run: the key as a path in PROVENANCE_AUDIT_SIGNING_KEY.
    process.env.PROVENANCE_AUDIT_SIGNING_KEY = privateKey;
    try {
      const second = await bootToolApp({
        agentId: 'agent-signed',
        policy,
        audit: { store: 'file', path: file, durable: false },
      });
      try {
        await second.gateway.execute('read.file', { path: '/etc/hosts' });
        await second.gateway.execute('noop');
        expect(await second.gateway.audit!.verify()).toMatchObject({
          valid: true,
          checkpoints: { verified: 2, signedThrough: 5 },
        });
      } finally {
        await second.app.close();
      }
    } finally {
      delete process.env.PROVENANCE_AUDIT_SIGNING_KEY;
    }
    original = {
      log: readFileSync(file, 'utf8'),
      head: readFileSync(`${file}.head`, 'utf8'),
      checkpoints: readFileSync(checkpointPathFor(file), 'utf8'),
    };
    lines = original.log
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    writeFileSync(file, original.log);
    writeFileSync(`${file}.head`, original.head);
    writeFileSync(checkpointPathFor(file), original.checkpoints);
  });

  const verify = (...extra: string[]) => runCliProcess(['audit', 'verify', file, ...extra]);
  const withKey = (...extra: string[]) => verify('--public-key', publicKey, ...extra);

  /** The log as the writer writes it, with every hash recomputed from `from` on, and the anchor to match. */
  function writeConsistent(records: Line[], from = 0): void {
    const chained = records.map((record) => ({ ...record }));
    for (let i = from; i < chained.length; i++) {
      chained[i].position = i;
      chained[i].prevHash = i === 0 ? lines[0].prevHash : chained[i - 1].hash;
      const { hash: _hash, ...body } = chained[i];
      chained[i].hash = sha256Hex(canonicalJson(body));
    }
    writeFileSync(file, chained.map((record) => `${canonicalJson(record)}\n`).join(''));
    const last = chained[chained.length - 1];
    writeFileSync(
      `${file}.head`,
      `${JSON.stringify({ position: last.position, hash: last.hash })}\n`,
    );
  }

  it('the log as written: 8 events, checkpoints close@5, open@5, close@7, all 0600, verified with the key', () => {
    expect(lines).toHaveLength(8);
    const checkpoints = original.checkpoints
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditCheckpoint);
    expect(checkpoints.map((c) => [c.position, c.reason, c.tenantId])).toEqual([
      [5, 'close', 'local'],
      [5, 'open', 'local'],
      [7, 'close', 'local'],
    ]);
    expect(statSync(checkpointPathFor(file)).mode & 0o777).toBe(0o600);
    const run = withKey('--require-checkpoints', '--require-signed-head');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`${file}: valid, 8 event(s) checked, head anchor at 7`);
    expect(run.stdout).toMatch(
      /checkpoints: 3 of 3 verified with key [0-9a-f]{64}; signed through position 7 \(last: close\); every event is signed/,
    );
    const plain = verify();
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain('checkpoints: 3 found, not checked (give --public-key');
  });

  it('a consistent rewrite (an edit, every hash and the anchor recomputed): only the key finds it', () => {
    const records = lines.map((line) => ({ ...line }));
    records[1].decision = 'ALLOW';
    records[1].reason = 'allowed after all';
    writeConsistent(records, 1);
    expect(verify().status).toBe(0);
    const run = withKey();
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${file}: BROKEN at position 5 `);
    expect(run.stdout).toMatch(
      /position 5: checkpoint-mismatch: .*rewritten at or before position 5/,
    );
    expect(run.stdout).toMatch(/position 7: checkpoint-mismatch/);
  });

  it('a forged event appended with a correct hash after the signed close: only the key finds it', () => {
    const forged: Line = { ...lines[7], id: 'forged', decision: 'ALLOW', reason: 'trust me' };
    writeConsistent([...lines, forged], 8);
    expect(verify().status).toBe(0);
    const run = withKey();
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${file}: BROKEN at position 8 `);
    expect(run.stdout).toMatch(/position 8 event forged: after-close/);
  });

  it('a cut tail with the anchor rewritten to the new last event: only the key finds it', () => {
    writeConsistent(lines.slice(0, 5), 5);
    expect(verify().status).toBe(0);
    const run = withKey();
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`${file}: BROKEN at position 5 `);
    expect(run.stdout).toMatch(/checkpoint-truncated: the log ends before position 7/);
  });

  it('checkpoints re-signed with another key after a rewrite are refused: signed by another key', () => {
    const records = lines.map((line) => ({ ...line }));
    records[2].reason = 'rewritten';
    writeConsistent(records, 2);
    const thief = loadSigningKey(generateSigningKeyPair().privateKeyPem);
    const last = JSON.parse(readFileSync(file, 'utf8').trimEnd().split('\n')[7]) as Line;
    const forged = signCheckpoint(
      { position: 7, hash: last.hash as string },
      thief,
      'close',
      'local',
    );
    writeFileSync(checkpointPathFor(file), `${canonicalJson(forged)}\n`);
    const run = withKey();
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/checkpoint-signature: checkpoint line 1 is signed by another key/);
  });

  it('a deleted checkpoint file is found only when checkpoints are required', () => {
    unlinkSync(checkpointPathFor(file));
    const lenient = withKey();
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toContain('no event is signed');
    const strict = withKey('--require-checkpoints');
    expect(strict.status).toBe(1);
    expect(strict.stdout).toMatch(/position 0: checkpoint-missing/);
  });

  it('the app itself refuses to continue a log that no longer matches its own checkpoints', async () => {
    const records = lines.map((line) => ({ ...line }));
    records[3].reason = 'nothing happened';
    writeConsistent(records, 3);
    const booted = await bootToolApp({
      agentId: 'agent-signed',
      policy,
      audit: { store: 'file', path: file, durable: false, signingKey: privateKey },
    });
    try {
      const error = await rejectionOf(booted.gateway.execute('noop'));
      expect(`${error.message} ${String((error as { cause?: unknown }).cause)}`).toMatch(
        /does not match a checkpoint signed with this log's key/,
      );
    } finally {
      await booted.app.close();
    }
  });

  describe('bundles', () => {
    let auditor: string;

    beforeAll(() => {
      auditor = join(dir, 'auditor');
      mkdirSync(auditor);
    });

    it('export writes one file (0600) an auditor verifies alone, with its own key or a trusted one', () => {
      const out = runCliProcess(['audit', 'export', file, '--out', dir]);
      expect(out.status).toBe(0);
      const bundleFile = join(dir, 'audit.jsonl.bundle.json');
      expect(out.stdout).toMatch(/bundle of 8 event\(s\), 3 checkpoint\(s\), key [0-9a-f]{64}/);
      expect(statSync(bundleFile).mode & 0o777).toBe(0o600);
      const alone = join(auditor, 'evidence.json');
      copyFileSync(bundleFile, alone);
      chmodSync(alone, 0o600);

      const own = runCliProcess(['audit', 'verify', alone]);
      expect(own.status).toBe(0);
      expect(own.stdout).toContain(`${alone}: valid, 8 event(s) checked, head anchor at 7`);
      expect(own.stdout).toMatch(/is the bundle's own: compare it with the key you trust/);
      expect(own.stdout).toMatch(
        /signed through position 7 \(last: close\); every event is signed/,
      );
      const trusted = runCliProcess([
        'audit',
        'verify',
        alone,
        '--public-key',
        publicKey,
        '--require-signed-head',
      ]);
      expect(trusted.status).toBe(0);
      expect(trusted.stdout).not.toContain("bundle's own");
    });

    it('a bundle whose events were rewritten consistently fails with its own key', () => {
      const bundleFile = join(auditor, 'rewritten.json');
      expect(runCliProcess(['audit', 'export', file, '--out', bundleFile]).status).toBe(0);
      const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as { events: string[] };
      const records = bundle.events.map((line) => JSON.parse(line) as Line);
      records[1].decision = 'ALLOW';
      for (let i = 1; i < records.length; i++) {
        records[i].prevHash = records[i - 1].hash;
        const { hash: _hash, ...body } = records[i];
        records[i].hash = sha256Hex(canonicalJson(body));
      }
      bundle.events = records.map((record) => canonicalJson(record));
      writeFileSync(bundleFile, JSON.stringify(bundle));
      const run = runCliProcess(['audit', 'verify', bundleFile]);
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(/checkpoint-mismatch/);
    });

    it('NOT proven by a bundle alone: a thief of the key (or one who swaps the key in the bundle) passes its own check', () => {
      const thief = generateSigningKeyPair();
      const thiefKey = loadSigningKey(thief.privateKeyPem);
      const bundleFile = join(auditor, 'swapped.json');
      expect(runCliProcess(['audit', 'export', file, '--out', bundleFile]).status).toBe(0);
      const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Record<string, unknown> & {
        events: string[];
      };
      const records = bundle.events.map((line) => JSON.parse(line) as Line);
      records[1].decision = 'ALLOW';
      for (let i = 1; i < records.length; i++) {
        records[i].prevHash = records[i - 1].hash;
        const { hash: _hash, ...body } = records[i];
        records[i].hash = sha256Hex(canonicalJson(body));
      }
      bundle.events = records.map((record) => canonicalJson(record));
      const last = records[records.length - 1];
      bundle.anchor = { position: 7, hash: last.hash };
      bundle.checkpoints = [
        signCheckpoint({ position: 7, hash: last.hash as string }, thiefKey, 'close', 'local'),
      ];
      bundle.publicKey = thief.publicKeyPem;
      bundle.keyId = thief.keyId;
      writeFileSync(bundleFile, JSON.stringify(bundle));
      const own = runCliProcess(['audit', 'verify', bundleFile]);
      expect(own.status).toBe(0);
      // ... but it prints the key id, which is not the one the auditor trusts,
      expect(own.stdout).toContain(`key ${thief.keyId} is the bundle's own`);
      // and with the trusted key it fails.
      const trusted = runCliProcess(['audit', 'verify', bundleFile, '--public-key', publicKey]);
      expect(trusted.status).toBe(1);
      expect(trusted.stdout).toMatch(/signed by another key/);
    });

    it('--bundle reads a bundle whatever its name and layout; a file that is not one is exit 2', () => {
      const bundleFile = join(auditor, 'pretty.txt');
      expect(runCliProcess(['audit', 'export', file, '--out', bundleFile]).status).toBe(0);
      const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as Record<string, unknown>;
      const { type, ...rest } = bundle;
      writeFileSync(bundleFile, JSON.stringify({ ...rest, type }, null, 2));
      expect(runCliProcess(['audit', 'verify', bundleFile, '--bundle']).status).toBe(0);
      const notOne = runCliProcess(['audit', 'verify', file, '--bundle']);
      expect(notOne.status).toBe(2);
      expect(notOne.stderr).toMatch(/not a bundle/);
    });
  });
});
