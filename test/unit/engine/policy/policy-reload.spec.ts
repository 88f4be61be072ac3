/*
 * Hot reload and the policy file watch (docs/policy.md, "Hot reload"), on a
 * real gateway service over the embedded engine: a reload is recorded before
 * it decides anything, a policy that fails validation is refused with the old
 * one still in force, and a remote gateway refuses to be reloaded from here.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { runCli } from '../../../../lib/cli/main';
import { compilePolicy } from '../../../../lib/engine/policy/policy.compiler';
import { PolicyValidationError } from '../../../../lib/engine/policy/policy.errors';
import { ProvenanceGateway } from '../../../../lib/gateway/provenance.gateway';
import {
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../../../lib/protocol/provenance.errors';

const ALLOW_READS =
  'name: files\nversion: 1\nrules:\n  - action: files.read\n    on_match: ALLOW\n';
const BLOCK_READS =
  'name: files\nversion: 2\nrules:\n  - action: files.read\n    on_match: BLOCK\n';
const BROKEN = 'name: files\nversion: 3\nrules:\n  - action: files.read\n    on_match: MAYBE\n';

class Lines implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

/** Resolves once `check` holds: the watch reacts to the file system, whose timing is its own. */
async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

const decisionOf = (gateway: ProvenanceGateway) =>
  gateway.execute('files.read', { path: '/etc/hosts' }).then(
    (result) => result.decision,
    (error: unknown) => (error instanceof PolicyBlockedError ? 'BLOCK' : Promise.reject(error)),
  );

describe('hot reload of the embedded gateway', () => {
  let dir: string;
  let file: string;
  const gateways: ProvenanceGateway[] = [];
  const gatewayOn = (extra: Record<string, unknown> = {}, logger = new Lines()) => {
    const gateway = new ProvenanceGateway({
      agentId: 'agent-1',
      policy: file,
      audit: { store: 'file', path: join(dir, 'audit.jsonl'), durable: false },
      logger,
      ...extra,
    });
    gateways.push(gateway);
    return { gateway, logger };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-reload-'));
    file = join(dir, 'policy.yml');
    writeFileSync(file, ALLOW_READS);
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloadPolicy() re-reads the file: recorded as policy.loaded with the old and new hash, then in force', async () => {
    const { gateway, logger } = gatewayOn();
    const before = compilePolicy(file);
    expect(await decisionOf(gateway)).toBe('ALLOW');
    writeFileSync(file, BLOCK_READS);
    const reload = await gateway.reloadPolicy();
    const after = compilePolicy(file);
    expect(reload).toMatchObject({
      changed: true,
      previous: { hash: before.hash, version: '1' },
      current: { hash: after.hash, version: '2', source: file },
    });
    expect(await decisionOf(gateway)).toBe('BLOCK');
    const events = await gateway.audit.list();
    expect(events.map((e) => [e.kind, e.policyHash])).toEqual([
      ['decision', before.hash],
      ['policy.loaded', after.hash],
      ['decision', after.hash],
    ]);
    expect(events[1]).toMatchObject({
      policyVersion: '2',
      parameters: { previousHash: before.hash, previousVersion: '1', source: file },
    });
    expect(logger.warnings.join('\n')).toContain(`replaced ${before.hash.slice(0, 12)}`);
    expect(await gateway.audit.verify()).toMatchObject({ valid: true, eventsChecked: 3 });
    await gateway.close();
    const lines: string[] = [];
    const code = await runCli(['audit', 'verify', join(dir, 'audit.jsonl')], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
    });
    expect({ code, out: lines.join('\n') }).toMatchObject({ code: 0 });
  });

  it('a document or a compiled policy can be given; the same policy again changes and records nothing', async () => {
    const { gateway } = gatewayOn();
    await gateway.reloadPolicy({
      name: 'files',
      version: 9,
      rules: [{ action: 'files.*', on_match: 'BLOCK' }],
    });
    expect(await decisionOf(gateway)).toBe('BLOCK');
    const compiled = compilePolicy(file);
    expect((await gateway.reloadPolicy(compiled)).changed).toBe(true);
    expect((await gateway.reloadPolicy(file)).changed).toBe(false);
    expect(await decisionOf(gateway)).toBe('ALLOW');
    const kinds = (await gateway.audit.list()).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'policy.loaded')).toHaveLength(2);
  });

  it('a policy that fails validation is refused (thrown and logged); the old one stays in force, nothing recorded', async () => {
    const { gateway, logger } = gatewayOn();
    writeFileSync(file, BROKEN);
    await expect(gateway.reloadPolicy()).rejects.toBeInstanceOf(PolicyValidationError);
    await expect(gateway.reloadPolicy({ name: 'x', rules: [] })).rejects.toThrow(/rules/);
    expect(logger.warnings.filter((w) => w.includes('the one in force stays'))).toHaveLength(2);
    expect(await decisionOf(gateway)).toBe('ALLOW');
    expect((await gateway.audit.list()).map((e) => e.kind)).toEqual(['decision']);
  });

  it('watchPolicy: a saved file is put in force; a broken save is logged and the last good policy stays', async () => {
    const { gateway, logger } = gatewayOn({ watchPolicy: true });
    expect(await decisionOf(gateway)).toBe('ALLOW');
    // As editors save: a new file renamed over the old one.
    writeFileSync(`${file}.tmp`, BLOCK_READS);
    renameSync(`${file}.tmp`, file);
    await eventually(async () =>
      (await gateway.audit.list()).some((e) => e.kind === 'policy.loaded'),
    );
    expect(await decisionOf(gateway)).toBe('BLOCK');
    writeFileSync(file, BROKEN);
    await eventually(() => logger.warnings.some((w) => w.includes('the one in force stays')));
    expect(await decisionOf(gateway)).toBe('BLOCK');
    const loaded = (await gateway.audit.list()).filter((e) => e.kind === 'policy.loaded');
    expect(loaded.map((e) => e.policyVersion)).toEqual(['2']);
  });

  it('watchPolicy needs a policy file; both options are refused with a remote gateway, and so is reloadPolicy()', async () => {
    expect(() =>
      gatewayOn({
        policy: { name: 'p', rules: [{ action: '*', on_match: 'BLOCK' }] },
        watchPolicy: true,
      }),
    ).toThrow(/watchPolicy: true watches the policy file/);
    const { gateway: fromDocument } = gatewayOn({
      policy: { name: 'p', rules: [{ action: '*', on_match: 'BLOCK' }] },
    });
    await expect(fromDocument.reloadPolicy()).rejects.toThrow(/was not loaded from a file/);
    const remote = { gatewayUrl: 'http://127.0.0.1:9', apiKey: 'pk_test_abcdefgh12345678' };
    const strip = { policy: undefined, audit: undefined };
    expect(() => gatewayOn({ ...remote, ...strip, watchPolicy: true })).toThrow(
      ProvenanceConfigError,
    );
    expect(() => gatewayOn({ ...remote, ...strip, shadowPolicy: file })).toThrow(/shadowPolicy/);
    const { gateway } = gatewayOn({ ...remote, ...strip });
    await expect(gateway.reloadPolicy(file)).rejects.toThrow(ProvenanceError);
    await expect(gateway.reloadPolicy(file)).rejects.toThrow(/remote gateway .* owns its policy/);
    expect(() => gateway.shadowReport()).toThrow(/remote gateway/);
    expect(readFileSync(file, 'utf8')).toBe(ALLOW_READS);
  });
});
