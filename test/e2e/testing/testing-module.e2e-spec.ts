import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { ProvenanceClient } from '../../../lib/gateway/provenance.client';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { Guarded } from '../../../lib/guarded/guarded.decorator';
import { PROVENANCE_MODULE_OPTIONS } from '../../../lib/module/provenance.module-definition';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';
import {
  EscalationRejectedError,
  EscalationTimeoutError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../../lib/protocol/provenance.errors';
import {
  ProvenanceTestingModule,
  ProvenanceTestReviewer,
  type ProvenanceTestingOptions,
} from '../../../lib/testing';

/** Written by hand: refunds up to 100 run, over 100 go to a human, deleting accounts never runs. */
const policy: PolicyDocument = {
  name: 'shop',
  rules: [
    {
      action: 'refunds.issue',
      conditions: [{ field: 'amount', operator: '>', value: 100 }],
      on_match: 'ESCALATE',
      on_violation: 'ALLOW',
      reason: 'large refunds need a human',
      violation_reason: 'small refund',
    },
    { action: 'accounts.delete', on_match: 'BLOCK', reason: 'never' },
  ],
};

@Injectable()
class RefundService {
  readonly issued: number[] = [];

  @Guarded('refunds.issue')
  async issue(amount: number, customer: string): Promise<string> {
    this.issued.push(amount);
    return `refund of ${amount} to ${customer}`;
  }

  @Guarded('accounts.delete')
  async deleteAccount(customer: string): Promise<string> {
    this.issued.push(-1);
    return `deleted ${customer}`;
  }
}

/** A service of a feature module that injects the gateway and the reviewer, as app code does. */
@Injectable()
class AuditTrailService {
  constructor(
    readonly gateway: ProvenanceGateway,
    readonly reviewer: ProvenanceReviewer,
  ) {}

  async actions(): Promise<string[]> {
    const events = (await this.gateway.audit?.list()) ?? [];
    return events.map((e) => `${e.action}:${e.decision}:${e.actorHumanId ?? '-'}`);
  }
}

@Module({ providers: [AuditTrailService], exports: [AuditTrailService] })
class AuditFeatureModule {}

async function start(options: ProvenanceTestingOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [ProvenanceTestingModule.forRoot(options), AuditFeatureModule],
    providers: [RefundService],
  }).compile();
  return moduleRef.init();
}

describe('ProvenanceTestingModule with a policy', () => {
  let app: INestApplicationContext;
  let refunds: RefundService;
  let reviewer: ProvenanceTestReviewer;
  beforeEach(async () => {
    app = await start({ policy });
    refunds = app.get(RefundService);
    reviewer = app.get(ProvenanceTestReviewer);
  });
  afterEach(() => app.close());

  it('provides the same tokens as ProvenanceModule, to feature modules too', () => {
    const trail = app.get(AuditTrailService);
    expect(trail.gateway).toBeInstanceOf(ProvenanceGateway);
    expect(trail.gateway).toBe(app.get(ProvenanceGateway));
    expect(trail.reviewer).toBe(app.get(ProvenanceReviewer));
    expect(reviewer.reviewer).toBe(trail.reviewer);
    expect(app.get(ProvenanceClient).options).toMatchObject({
      mode: 'embedded',
      agentId: 'test-agent',
      escalationTimeout: 2_000,
      audit: { store: 'memory' },
    });
    expect(app.get(PROVENANCE_MODULE_OPTIONS)).toMatchObject({ agentId: 'test-agent' });
  });

  it('allowed: the body runs, and the audit log records it', async () => {
    await expect(refunds.issue(20, 'cus_1')).resolves.toBe('refund of 20 to cus_1');
    expect(refunds.issued).toEqual([20]);
    expect(await app.get(AuditTrailService).actions()).toEqual(['refunds.issue:ALLOW:-']);
  });

  it('blocked: PolicyBlockedError with the rule’s reason, and the body never runs', async () => {
    const error = await refunds.deleteAccount('cus_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect((error as PolicyBlockedError).reason).toBe('never');
    expect(refunds.issued).toEqual([]);
  });

  it('escalated, then approveNext(): the body runs, approved by the test approver', async () => {
    const call = refunds.issue(500, 'cus_2');
    const outcome = await reviewer.approveNext('checked the order');
    expect(outcome).toMatchObject({
      decision: 'APPROVE',
      approverId: 'test-approver',
      reason: 'checked the order',
    });
    await expect(call).resolves.toBe('refund of 500 to cus_2');
    expect(refunds.issued).toEqual([500]);
    expect(await app.get(AuditTrailService).actions()).toEqual([
      'refunds.issue:ESCALATE:-',
      'refunds.issue:ALLOW:test-approver',
    ]);
  });

  it('approveNext() before the call decides the escalation the call raises', async () => {
    const approved = reviewer.approveNext();
    await expect(refunds.issue(300, 'cus_3')).resolves.toBe('refund of 300 to cus_3');
    expect((await approved).decision).toBe('APPROVE');
  });

  it('escalated, then rejectNext(reason): EscalationRejectedError, the body never runs', async () => {
    const call = refunds.issue(900, 'cus_4');
    await reviewer.rejectNext('looks like fraud');
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EscalationRejectedError);
    expect((error as EscalationRejectedError).approverReason).toBe('looks like fraud');
    expect((error as EscalationRejectedError).actorHumanId).toBe('test-approver');
    expect(refunds.issued).toEqual([]);
  });

  it('nextEscalation() shows what waits (action, parameters); decide it by id', async () => {
    const first = refunds.issue(150, 'cus_5');
    const second = refunds.issue(250, 'cus_6');
    const a = await reviewer.nextEscalation();
    const b = await reviewer.nextEscalation();
    expect(a).toMatchObject({
      type: 'pending',
      action: 'refunds.issue',
      parameters: { amount: 150, customer: 'cus_5' },
      agentId: 'test-agent',
    });
    expect(b.parameters).toEqual({ amount: 250, customer: 'cus_6' });
    await reviewer.reject(b.escalationId);
    await reviewer.approve(a.escalationId);
    await expect(first).resolves.toBe('refund of 150 to cus_5');
    await expect(second).rejects.toBeInstanceOf(EscalationRejectedError);
    expect(reviewer.escalations.map((e) => e.escalationId)).toEqual([
      a.escalationId,
      b.escalationId,
    ]);
  });

  it('approveNext() after nextEscalation() decides that same escalation', async () => {
    const call = refunds.issue(150, 'cus_7');
    const seen = await reviewer.nextEscalation();
    const outcome = await reviewer.approveNext();
    expect(outcome.escalationId).toBe(seen.escalationId);
    await expect(call).resolves.toBe('refund of 150 to cus_7');
  });

  it('an escalation the app decides itself, through ProvenanceReviewer, is not taken by approveNext()', async () => {
    const first = refunds.issue(150, 'cus_8');
    const seen = await reviewer.nextEscalation();
    await app.get(ProvenanceReviewer).reject(seen.escalationId, { approverId: 'ops' });
    await expect(first).rejects.toBeInstanceOf(EscalationRejectedError);
    const second = refunds.issue(160, 'cus_9');
    const outcome = await reviewer.approveNext();
    expect(outcome.escalationId).not.toBe(seen.escalationId);
    await expect(second).resolves.toBe('refund of 160 to cus_9');
  });

  it('autoApprove can be switched on in a test', async () => {
    reviewer.autoApprove = true;
    await expect(refunds.issue(700, 'cus_10')).resolves.toBe('refund of 700 to cus_10');
    expect(await app.get(AuditTrailService).actions()).toContain(
      'refunds.issue:ALLOW:test-approver',
    );
  });
});

describe('ProvenanceTestingModule options', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('autoApprove: every escalation is approved by the test approver', async () => {
    app = await start({ policy, autoApprove: true, approverId: 'qa@example.com' });
    const refunds = app.get(RefundService);
    await expect(refunds.issue(5_000, 'cus_1')).resolves.toBe('refund of 5000 to cus_1');
    await expect(refunds.issue(6_000, 'cus_2')).resolves.toBe('refund of 6000 to cus_2');
    expect(await app.get(AuditTrailService).actions()).toEqual([
      'refunds.issue:ESCALATE:-',
      'refunds.issue:ALLOW:qa@example.com',
      'refunds.issue:ESCALATE:-',
      'refunds.issue:ALLOW:qa@example.com',
    ]);
  });

  it('no decision: the call ends in EscalationTimeoutError; waiting for an escalation that never comes says why', async () => {
    app = await start({ policy, escalationTimeout: 100 });
    await expect(app.get(RefundService).issue(500, 'cus_1')).rejects.toBeInstanceOf(
      EscalationTimeoutError,
    );
    await expect(app.get(RefundService).issue(50, 'cus_1')).resolves.toBeDefined();
    await expect(app.get(ProvenanceTestReviewer).approveNext()).rejects.toThrow(
      /approveNext\(\) waited 100 ms and no call was escalated/,
    );
  });

  it('decide is asked first; undefined lets the policy decide', async () => {
    app = await start({
      policy,
      decide: (action, parameters) =>
        action === 'refunds.issue' && parameters?.customer === 'cus_vip'
          ? { decision: 'ALLOW', reason: 'VIP customer' }
          : undefined,
    });
    const refunds = app.get(RefundService);
    await expect(refunds.issue(5_000, 'cus_vip')).resolves.toBe('refund of 5000 to cus_vip');
    await expect(refunds.deleteAccount('cus_vip')).rejects.toBeInstanceOf(PolicyBlockedError);
    const events = (await app.get(ProvenanceGateway).audit?.list()) ?? [];
    expect(events.map((e) => [e.decision, e.reason])).toEqual([
      ['ALLOW', 'VIP customer'],
      ['BLOCK', 'never'],
    ]);
  });

  it('decide without a policy: what it leaves open is blocked; ESCALATE is held for the reviewer', async () => {
    app = await start({
      decide: (action) => (action === 'refunds.issue' ? 'ESCALATE' : undefined),
    });
    const refunds = app.get(RefundService);
    const call = refunds.issue(1, 'cus_1');
    await app.get(ProvenanceTestReviewer).approveNext();
    await expect(call).resolves.toBe('refund of 1 to cus_1');
    const blocked = await refunds.deleteAccount('cus_1').catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(PolicyBlockedError);
    expect(refunds.issued).toEqual([1]);
  });

  it('a decide answer that is not a decision fails the call (never ALLOW)', async () => {
    app = await start({
      decide: () => 'YES' as never,
      logger: { log() {}, warn() {}, error() {} },
    });
    const refunds = app.get(RefundService);
    const error = await refunds.issue(1, 'cus_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvenanceError);
    expect((error as Error).message).toContain("`decide` answered 'YES' for 'refunds.issue'");
    expect(refunds.issued).toEqual([]);
  });

  it('ignores PROVENANCE_* variables: a gateway URL in the environment is never called', async () => {
    const saved = { ...process.env };
    process.env.PROVENANCE_GATEWAY_URL = 'http://127.0.0.1:9';
    process.env.PROVENANCE_API_KEY = 'pk_test_abcdefghijkl';
    process.env.PROVENANCE_AGENT_ID = 'from-env';
    try {
      app = await start({ policy });
      expect(app.get(ProvenanceClient).options).toMatchObject({
        mode: 'embedded',
        agentId: 'test-agent',
      });
      await expect(app.get(RefundService).issue(5, 'cus_1')).resolves.toBeDefined();
    } finally {
      process.env = saved;
    }
  });

  it('isGlobal: false keeps the providers to the module that imports it', async () => {
    await expect(start({ policy, isGlobal: false })).rejects.toThrow(/AuditTrailService/);
    const moduleRef = await Test.createTestingModule({
      imports: [ProvenanceTestingModule.forRoot({ policy, isGlobal: false })],
      providers: [RefundService, AuditTrailService],
    }).compile();
    app = await moduleRef.init();
    expect(app.get(AuditTrailService).gateway).toBe(app.get(ProvenanceGateway));
    await expect(app.get(RefundService).issue(5, 'cus_1')).resolves.toBeDefined();
  });

  it.each([
    ['neither policy nor decide', {}, 'policy'],
    ['a remote gateway', { policy, gatewayUrl: 'http://127.0.0.1:9' }, 'gatewayUrl'],
    ['a file audit store', { policy, audit: { store: 'file' } }, 'audit'],
    ['autoApprove that is not a boolean', { policy, autoApprove: 'yes' }, 'autoApprove'],
    ['an empty approverId', { policy, approverId: '' }, 'approverId'],
  ])('refuses %s at forRoot(), naming it', (_label, options, option) => {
    let error: unknown;
    try {
      ProvenanceTestingModule.forRoot(options as ProvenanceTestingOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe(option);
    expect((error as Error).message).toContain(`\`${option}\``);
  });
});
