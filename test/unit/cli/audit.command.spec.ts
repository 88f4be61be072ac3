import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runAuditCommand } from '../../../lib/cli/audit.command';
import type { CliIO } from '../../../lib/cli/cli.io';
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { FileAuditStore } from '../../../lib/engine/audit/audit-log.file-store';
import { keyIdOf, loadPublicKey } from '../../../lib/engine/audit/audit-signing';
import { runCliProcess } from '../../security/security.helpers';

function capture(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

describe('provenance audit', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-'));
    file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 5; i++) {
      await log.append({
        tenantId: 'local',
        sessionId: 'sess_1',
        agentId: 'agent-1',
        action: `tool.${i}`,
        parameters: { i },
        decision: i === 3 ? 'BLOCK' : 'ALLOW',
        reason: `because ${i}`,
        kind: 'decision',
        escalationId: i === 4 ? 'esc-1' : null,
        actorHumanId: i === 4 ? 'alice' : null,
      });
    }
    await log.close();
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('verify: exit 0 for a valid log', async () => {
    const io = capture();
    expect(await runAuditCommand(['verify', file], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/valid, 5 event\(s\) checked, head anchor at 4/);
  });

  it('verify: exit 1 naming the first broken position and why', async () => {
    const rows = fs.readFileSync(file, 'utf8').split('\n');
    rows[2] = rows[2].replace('"because 2"', '"because I say so"');
    fs.writeFileSync(file, rows.join('\n'));
    const io = capture();
    expect(await runAuditCommand(['verify', file], io)).toBe(1);
    expect(io.stdout[0]).toMatch(/BROKEN at position 2/);
    expect(io.stdout[1]).toMatch(/position 2 event \S+: hash-mismatch: .*a field was edited/);
  });

  it('verify: exit 2 for an unreadable file or bad usage', async () => {
    const io = capture();
    expect(await runAuditCommand(['verify', path.join(dir, 'missing.jsonl')], io)).toBe(2);
    expect(io.stderr[0]).toMatch(/cannot read/);
    expect(await runAuditCommand(['verify'], capture())).toBe(2);
    expect(await runAuditCommand([], capture())).toBe(2);
    expect(await runAuditCommand(['frobnicate'], capture())).toBe(2);
  });

  it('tail: the last N events, one readable line each', async () => {
    const io = capture();
    expect(await runAuditCommand(['tail', file, '-n', '2'], io)).toBe(0);
    expect(io.stdout).toHaveLength(2);
    expect(io.stdout[0]).toMatch(
      /^#3 \d{4}-\d\d-\d\dT[\d:.]+Z BLOCK tool\.3 \[decision\] session=sess_1 agent=agent-1 reason="because 3"$/,
    );
    expect(io.stdout[1]).toMatch(/^#4 .* escalation=esc-1 by=alice reason="because 4"$/);
    const all = capture();
    expect(await runAuditCommand(['tail', file], all)).toBe(0);
    expect(all.stdout).toHaveLength(5);
    expect(await runAuditCommand(['tail', file, '-n', 'x'], capture())).toBe(2);
  });
});

describe('provenance audit keygen, export, verify --public-key (child processes)', () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-cli-keys-'));
    file = path.join(dir, 'audit.jsonl');
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keygen writes a 0600 private key and a public key, prints the key id, never overwrites', () => {
    const prefix = path.join(dir, 'k');
    const made = runCliProcess(['audit', 'keygen', prefix]);
    expect(made.status).toBe(0);
    expect(fs.statSync(`${prefix}.key.pem`).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${prefix}.key.pem`, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(fs.readFileSync(`${prefix}.pub.pem`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const id = /key id ([0-9a-f]{64})/.exec(made.stdout)?.[1];
    expect(id).toBe(keyIdOf(loadPublicKey(`${prefix}.pub.pem`, 'pub')));
    // The private key itself is never printed.
    expect(made.stdout + made.stderr).not.toContain(
      fs.readFileSync(`${prefix}.key.pem`, 'utf8').split('\n')[1],
    );
    const again = runCliProcess(['audit', 'keygen', prefix]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/cannot write .*k\.key\.pem.*EEXIST/);
    expect(runCliProcess(['audit', 'keygen']).status).toBe(2);
  });

  it('a signed log verifies with its key (0), and the usage errors are exit 2', async () => {
    const prefix = path.join(dir, 'signer');
    expect(runCliProcess(['audit', 'keygen', prefix]).status).toBe(0);
    const log = new AuditLog({
      store: new FileAuditStore(file, { durable: false }),
      checkpoints: { signingKey: `${prefix}.key.pem`, everyEvents: 2 },
    });
    for (let i = 0; i < 5; i++) {
      await log.append({
        tenantId: 'local',
        sessionId: 's',
        agentId: 'a',
        action: 'x',
        parameters: { i },
        decision: 'ALLOW',
        reason: 'r',
        kind: 'decision',
      });
    }
    await log.close();
    const ok = runCliProcess(['audit', 'verify', file, '--public-key', `${prefix}.pub.pem`]);
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
    expect(ok.stdout).toMatch(
      /checkpoints: 3 of 3 verified .* signed through position 4 \(last: close\)/,
    );

    const usage: Array<[string[], RegExp]> = [
      [['audit', 'verify', file, '--public-key'], /--public-key needs a value/],
      [
        ['audit', 'verify', file, '--public-key', path.join(dir, 'none.pem')],
        /--public-key .*none\.pem is not a readable public key/,
      ],
      [['audit', 'verify', file, '--require-checkpoints'], /need --public-key/],
      [['audit', 'verify', file, '--frobnicate'], /unknown option '--frobnicate'/],
      [['audit', 'export', file], /needs --out/],
      [['audit', 'export', path.join(dir, 'missing.jsonl'), '--out', dir], /cannot read/],
      [['audit', 'tail', file, '-n'], /-n needs a value/],
    ];
    for (const [args, message] of usage) {
      const run = runCliProcess(args);
      expect({ args, status: run.status }).toEqual({ args, status: 2 });
      expect(run.stderr).toMatch(message);
    }
    const wrongKind = path.join(dir, 'rsa.pub.pem');
    fs.writeFileSync(
      wrongKind,
      generateKeyPairSync('rsa', { modulusLength: 1024 })
        .publicKey.export({ format: 'pem', type: 'spki' })
        .toString(),
    );
    const rsa = runCliProcess(['audit', 'verify', file, '--public-key', wrongKind]);
    expect(rsa.status).toBe(2);
    expect(rsa.stderr).toMatch(/must be an Ed25519 public key; got a rsa key/);
  });
});
