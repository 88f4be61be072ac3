/*
 * Every decision names the policy it was decided with (docs/policy.md,
 * "Policy identity in the audit trail"): the hash and version are in the
 * event, covered by the chain, in the file and the memory store; an old log
 * whose events name no policy still verifies, and so does one that mixes both.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../../lib/cli/main';
import {
  GENESIS_HASH,
  chainEvent,
  prepareEvent,
  serializeEvent,
} from '../../../../lib/engine/audit/audit-event';
import { createEngine, type BuiltEngine } from '../../../../lib/engine/engine.factory';
import { Decision } from '../../../../lib/protocol/decision';
import type { GatewayRequest } from '../../../../lib/protocol/gateway.types';
import { toWireAuditEvent } from '../../../../lib/server/audit-wire';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

// Its canonical JSON, written by hand: keys sorted, no spaces.
const POLICY_TEXT =
  '{"name":"payments","rules":[{"action":"files.delete","on_match":"BLOCK"},' +
  '{"action":"payments.send","on_match":"ESCALATE"}],"version":"4"}';
const POLICY = JSON.parse(POLICY_TEXT) as { name: string; version: string; rules: [] };
const POLICY_HASH = sha256(POLICY_TEXT);

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, out: lines.join('\n') };
}

const call = (action: string, extra: Partial<GatewayRequest> = {}): GatewayRequest => ({
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action,
  parameters: { n: 1 },
  decision: Decision.ALLOW,
  ...extra,
});

describe('policy identity in the audit trail', () => {
  let dir: string;
  const built: BuiltEngine[] = [];
  const engineOn = (audit: Parameters<typeof createEngine>[0]['audit']) => {
    const b = createEngine({ policy: POLICY, audit, escalationTimeoutMs: 60_000 });
    built.push(b);
    return b;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-identity-'));
  });
  afterEach(async () => {
    await Promise.all(built.splice(0).map((b) => b.engine.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a decision, a pending escalation and its ending, a replay: what each names (file store)', async () => {
    const file = join(dir, 'audit.jsonl');
    const { engine, policy } = engineOn({ store: 'file', path: file, durable: false });
    expect(policy.hash).toBe(POLICY_HASH);
    await engine.execute(call('files.read', { idempotencyKey: 'k1' }));
    await engine.execute(call('files.read', { idempotencyKey: 'k1' }));
    await engine.execute(call('files.delete'));
    const held = engine.execute(call('payments.send'), {
      onEscalated: (ticket) =>
        void engine.decide(ticket.escalationId, 'APPROVE', { approverId: 'reviewer-1' }),
    });
    await held;
    await engine.close();

    const events = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => [e.kind, e.policyHash, e.policyVersion])).toEqual([
      ['decision', POLICY_HASH, '4'],
      ['decision.replayed', POLICY_HASH, '4'],
      ['decision', POLICY_HASH, '4'],
      ['escalation.pending', POLICY_HASH, '4'],
      // The ending is a human's decision, not the policy's.
      ['escalation.approved', undefined, undefined],
    ]);
    const { code, out } = await cli('audit', 'verify', file);
    expect(out).toContain('valid');
    expect(code).toBe(0);
  });

  it('provenance audit tail shows which policy decided (its hash prefix and version)', async () => {
    const file = join(dir, 'audit.jsonl');
    const { engine } = engineOn({ store: 'file', path: file, durable: false });
    await engine.execute(call('files.delete'));
    await engine.close();
    const { code, out } = await cli('audit', 'tail', file);
    expect(code).toBe(0);
    expect(out).toContain(`policy=${POLICY_HASH.slice(0, 12)}@4`);
  });

  it('editing policyHash (or policyVersion) in the file breaks verify at that position', async () => {
    const file = join(dir, 'audit.jsonl');
    const { engine } = engineOn({ store: 'file', path: file, durable: false });
    await engine.execute(call('files.read'));
    await engine.execute(call('files.delete'));
    await engine.execute(call('files.read'));
    await engine.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    const other = sha256('another policy');
    for (const [from, to] of [
      [`"policyHash":"${POLICY_HASH}"`, `"policyHash":"${other}"`],
      ['"policyVersion":"4"', '"policyVersion":"5"'],
    ]) {
      expect(lines[1]).toContain(from);
      const edited = [...lines];
      edited[1] = edited[1].replace(from, to);
      writeFileSync(file, edited.join('\n'));
      const { code, out } = await cli('audit', 'verify', file);
      expect(code).toBe(1);
      expect(out).toMatch(/position 1\b/);
    }
  });

  it('an old log whose events name no policy verifies, and keeps verifying once new events are appended', async () => {
    const file = join(dir, 'audit.jsonl');
    // Two events as a version before policy identity wrote them (no policy members).
    let prev = GENESIS_HASH;
    for (let position = 0; position < 2; position++) {
      const event = chainEvent(
        prepareEvent({
          tenantId: 'local',
          sessionId: 'sess_old',
          agentId: 'agent-old',
          action: 'files.read',
          parameters: { position },
          decision: 'ALLOW',
          reason: 'No rule matched; default ALLOW',
          kind: 'decision',
        }),
        position,
        prev,
      );
      expect(serializeEvent(event)).not.toContain('policy');
      appendFileSync(file, serializeEvent(event));
      prev = event.hash;
    }
    expect((await cli('audit', 'verify', file)).code).toBe(0);

    const { engine, audit } = engineOn({ store: 'file', path: file, durable: false });
    await engine.execute(call('files.delete'));
    const all = await audit.list();
    expect(all.map((e) => e.policyHash ?? null)).toEqual([null, null, POLICY_HASH]);
    expect(await engine.verify()).toMatchObject({ valid: true, eventsChecked: 3 });
    await engine.close();
    expect((await cli('audit', 'verify', file)).code).toBe(0);
  });

  it('the memory store records and verifies them; the server wire shows them snake_case', async () => {
    const { engine, audit } = engineOn({ store: 'memory' });
    await engine.execute(call('files.delete'));
    const [event] = await audit.list();
    expect(event).toMatchObject({ policyHash: POLICY_HASH, policyVersion: '4' });
    expect(await engine.verify()).toMatchObject({ valid: true, eventsChecked: 1 });
    expect(toWireAuditEvent(event)).toMatchObject({
      policy_hash: POLICY_HASH,
      policy_version: '4',
    });
    const { policyHash: _h, policyVersion: _v, ...old } = event;
    expect(toWireAuditEvent(old)).toMatchObject({ policy_hash: null, policy_version: null });
  });

  it('a policy without a version is recorded with a null version', async () => {
    const { version: _v, ...unversioned } = POLICY;
    const b = createEngine({ policy: unversioned, audit: { store: 'memory' } });
    built.push(b);
    await b.engine.execute(call('files.delete'));
    const [event] = await b.audit.list();
    expect(event.policyVersion).toBeNull();
    expect(event.policyHash).toBe(sha256(POLICY_TEXT.replace(',"version":"4"', '')));
  });
});
