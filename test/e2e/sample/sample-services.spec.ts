import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EscalationRejectedError, PolicyBlockedError, ProvenanceGateway } from '../../../lib';
import {
  ProvenanceTestingModule,
  ProvenanceTestReviewer,
  type ProvenanceTestingOptions,
} from '../../../lib/testing';
import { AgentRunner } from '../../../sample/agent/agent.runner';
import { sampleFile } from '../../../sample/sample.paths';
import { DataService } from '../../../sample/tools/data.service';
import { EmailService } from '../../../sample/tools/email.service';
import { PaymentsService } from '../../../sample/tools/payments.service';
import { ToolsModule } from '../../../sample/tools/tools.module';

/**
 * The sample's own services (its tools and its agent runner) under
 * ProvenanceTestingModule, as the sample's developers would unit-test them:
 * the real sample/policy.yml, no server, no file, a test reviewer. Expected
 * outcomes come from the policy's sentence (docs/sample.md): small GBP/USD/EUR
 * payments run, larger ones or other currencies wait for a human, data.* is
 * blocked, email is allowed, anything else is blocked.
 */
describe("The sample's services under ProvenanceTestingModule", () => {
  let app: INestApplicationContext;
  let reviewer: ProvenanceTestReviewer;

  async function start(options: Partial<ProvenanceTestingOptions> = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ProvenanceTestingModule.forRoot({
          agentId: 'sample-agent',
          policy: sampleFile('policy.yml'),
          ...options,
        }),
        ToolsModule,
      ],
      providers: [AgentRunner],
    }).compile();
    app = await moduleRef.init();
    reviewer = app.get(ProvenanceTestReviewer);
  }
  afterEach(() => app.close());

  describe('the tools', () => {
    beforeEach(() => start());

    it('EmailService.send is allowed: the mail goes out', async () => {
      const email = app.get(EmailService);
      const sent = await email.send('ops@example.com', 'weekly-report');
      expect(sent).toMatchObject({ to: 'ops@example.com', template: 'weekly-report' });
      expect(email.sent).toEqual([sent]);
    });

    it('DataService.delete is blocked: nothing is deleted', async () => {
      const data = app.get(DataService);
      const error = await data.delete('customers', 'cus_1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PolicyBlockedError);
      expect((error as PolicyBlockedError).reason).toBe(
        'Agents may not modify stored data (data.* is blocked)',
      );
      expect(data.deleted).toEqual([]);
    });

    it('PaymentsService.initiate of 50 GBP runs without a human', async () => {
      const payments = app.get(PaymentsService);
      await payments.initiate(50, 'GBP', 'rec_abc123');
      expect(payments.initiated).toEqual([
        expect.objectContaining({ amount: 50, currency: 'GBP', recipientId: 'rec_abc123' }),
      ]);
      expect(reviewer.escalations).toEqual([]);
    });

    it('800 GBP waits for a human; approved, it goes out, recorded with the approver', async () => {
      const payments = app.get(PaymentsService);
      const payment = payments.initiate(800, 'GBP', 'rec_abc123');
      const held = await reviewer.nextEscalation();
      expect(held).toMatchObject({
        action: 'payments.initiate',
        parameters: { amount: 800, currency: 'GBP', recipientId: 'rec_abc123' },
        agentId: 'sample-agent',
      });
      expect(payments.initiated).toEqual([]);
      await reviewer.approveNext('invoice checked');
      await expect(payment).resolves.toMatchObject({ amount: 800, status: 'initiated' });
      const events = (await app.get(ProvenanceGateway).audit?.list()) ?? [];
      expect(events.map((e) => [e.decision, e.actorHumanId])).toEqual([
        ['ESCALATE', null],
        ['ALLOW', 'test-approver'],
      ]);
    });

    it('100 JPY waits for a human; rejected, it never goes out', async () => {
      const payments = app.get(PaymentsService);
      const payment = payments.initiate(100, 'JPY', 'rec_abc123');
      await reviewer.rejectNext('we do not pay in JPY');
      await expect(payment).rejects.toBeInstanceOf(EscalationRejectedError);
      expect(payments.initiated).toEqual([]);
    });
  });

  describe('AgentRunner', () => {
    const plan = {
      plan: [
        { tool: 'email.send', args: { to: 'cfo@example.com', template: 'plan' } },
        { tool: 'payments.initiate', args: { amount: 800, currency: 'EUR', recipientId: 'rec_1' } },
        { tool: 'data.delete', args: { table: 'invoices', id: 'inv_1' } },
        { tool: 'shell.exec', args: { command: 'rm -rf /' } },
      ],
    };

    it('reports each step: allowed, rejected by the reviewer, blocked, not a tool (blocked)', async () => {
      await start();
      const rejected = reviewer.rejectNext('not this quarter');
      const report = await app.get(AgentRunner).run(plan);
      await rejected;
      expect(report.steps.map((s) => [s.tool, s.outcome, s.actorHumanId])).toEqual([
        ['email.send', 'allowed', null],
        ['payments.initiate', 'rejected', 'test-approver'],
        ['data.delete', 'blocked', null],
        ['shell.exec', 'blocked', null],
      ]);
      expect(report.counts).toEqual({ allowed: 1, blocked: 3, escalated: 1 });
      expect(report.stoppedEarly).toBe(false);
      expect(app.get(PaymentsService).initiated).toEqual([]);
      expect(app.get(DataService).deleted).toEqual([]);
    });

    it('with autoApprove the payment goes out and the run says who approved it', async () => {
      await start({ autoApprove: true, approverId: 'cfo@example.com' });
      const report = await app.get(AgentRunner).run(plan);
      expect(report.steps[1]).toMatchObject({
        outcome: 'allowed',
        decision: 'ALLOW',
        actorHumanId: 'cfo@example.com',
      });
      expect(app.get(PaymentsService).initiated).toHaveLength(1);
    });

    it('an escalation nobody decides ends as expired, and the plan goes on', async () => {
      await start({ escalationTimeout: 100 });
      const report = await app.get(AgentRunner).run(plan);
      expect(report.steps.map((s) => s.outcome)).toEqual([
        'allowed',
        'expired',
        'blocked',
        'blocked',
      ]);
      expect(app.get(PaymentsService).initiated).toEqual([]);
    });
  });
});
