/*
 * Shadow mode (docs/policy.md, "Shadow mode"): a candidate policy evaluated
 * beside the enforced one on every call; disagreements are counted, logged
 * once per action and change (then at 10, 100, ...), reported without
 * parameter values, and never enforced.
 */
import type { LoggerService } from '@nestjs/common';
import { ProvenanceGateway } from '../../../../lib/gateway/provenance.gateway';
import { PolicyBlockedError } from '../../../../lib/protocol/provenance.errors';
import type { PolicyDocument } from '../../../../lib/engine/policy/policy.types';

const ENFORCED: PolicyDocument = {
  name: 'enforced',
  version: 1,
  rules: [
    {
      action: 'payments.send',
      conditions: [{ field: 'amount', operator: '<', value: 1000 }],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
    },
    { action: 'files.*', on_match: 'ALLOW' },
  ],
};
const CANDIDATE: PolicyDocument = {
  name: 'candidate',
  version: 2,
  rules: [
    {
      action: 'payments.send',
      conditions: [{ field: 'amount', operator: '<', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
    },
    { action: 'files.delete', on_match: 'ESCALATE' },
    { action: 'files.*', on_match: 'ALLOW' },
  ],
};

class Lines implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.warnings.push(String(message));
  }
}

describe('shadow mode', () => {
  const gateways: ProvenanceGateway[] = [];
  const gatewayWith = (extra: Record<string, unknown>) => {
    const logger = new Lines();
    const gateway = new ProvenanceGateway({
      agentId: 'agent-1',
      policy: ENFORCED,
      audit: { store: 'memory' },
      logger,
      ...extra,
    });
    gateways.push(gateway);
    return { gateway, logger };
  };
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });

  it('counts and reports disagreements, logs each action and change once, and enforces only the enforced policy', async () => {
    const { gateway, logger } = gatewayWith({ shadowPolicy: CANDIDATE });
    // Enforced ALLOW, shadow BLOCK: three times, with a value that must not be reported.
    for (const amount of [500, 501, 502]) {
      const result = await gateway.execute('payments.send', { amount, iban: 'DE-SECRET-IBAN' });
      expect(result.decision).toBe('ALLOW');
    }
    // Agreement (both BLOCK) and agreement (both ALLOW): not counted as disagreements.
    await expect(gateway.execute('payments.send', { amount: 5000 })).rejects.toBeInstanceOf(
      PolicyBlockedError,
    );
    await gateway.execute('payments.send', { amount: 5 });
    // Enforced ALLOW, shadow ESCALATE: allowed now, never held.
    expect((await gateway.execute('files.delete', { path: '/tmp/x' })).decision).toBe('ALLOW');

    const report = gateway.shadowReport();
    expect(report).toMatchObject({
      shadow: { name: 'candidate', version: '2' },
      calls: 6,
      disagreements: 4,
      counts: { 'ALLOW→BLOCK': 3, 'ALLOW→ESCALATE': 1 },
      errors: 0,
    });
    expect(report?.examples).toEqual([
      expect.objectContaining({
        action: 'payments.send',
        change: 'ALLOW→BLOCK',
        count: 3,
        enforced: { decision: 'ALLOW', ruleIndex: 0, ruleAction: 'payments.send' },
        shadow: { decision: 'BLOCK', ruleIndex: 0, ruleAction: 'payments.send' },
      }),
      expect.objectContaining({
        action: 'files.delete',
        change: 'ALLOW→ESCALATE',
        count: 1,
        shadow: { decision: 'ESCALATE', ruleIndex: 1, ruleAction: 'files.delete' },
      }),
    ]);
    const shown = JSON.stringify(report) + logger.warnings.join('\n');
    // (Numbers are not searched for: a hash or a timestamp may hold the same digits.)
    for (const secret of ['DE-SECRET-IBAN', 'iban', 'amount', '/tmp/x']) {
      expect(shown).not.toContain(secret);
    }
    const said = logger.warnings.filter((w) => w.includes('shadow policy'));
    expect(said).toHaveLength(2);
    expect(said[0]).toContain(
      "would decide BLOCK where the enforced policy decided ALLOW for 'payments.send'",
    );
    // Nothing of the shadow reaches the audit trail: every event names the enforced policy.
    const hashes = new Set((await gateway.audit.list()).map((e) => e.policyHash));
    expect(hashes.size).toBe(1);
  });

  it('logs an action and change again at its 10th disagreement, with the count', async () => {
    const { gateway, logger } = gatewayWith({ shadowPolicy: CANDIDATE });
    for (let i = 0; i < 10; i++) await gateway.execute('payments.send', { amount: 500 });
    const said = logger.warnings.filter((w) => w.includes('shadow policy'));
    expect(said).toHaveLength(2);
    expect(said[1]).toContain('(10 times so far');
    expect(gateway.shadowReport()?.counts).toEqual({ 'ALLOW→BLOCK': 10 });
  });

  it('without a shadow policy the report is null', async () => {
    const { gateway } = gatewayWith({});
    await gateway.execute('files.read', {});
    expect(gateway.shadowReport()).toBeNull();
  });

  it('a shadow policy that fails validation refuses to start, naming it', () => {
    expect(() =>
      gatewayWith({ shadowPolicy: { name: 'bad', rules: [{ action: 'x', on_match: 'MAYBE' }] } }),
    ).toThrow(/on_match/);
  });
});
