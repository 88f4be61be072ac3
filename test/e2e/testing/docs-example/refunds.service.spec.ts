import { Test, type TestingModule } from '@nestjs/testing';
import { EscalationRejectedError, PolicyBlockedError, ProvenanceGateway } from '../../../../lib';
import { ProvenanceTestingModule, ProvenanceTestReviewer } from '../../../../lib/testing';
import { RefundsService } from './refunds.service';

describe('RefundsService', () => {
  let moduleRef: TestingModule;
  let refunds: RefundsService;
  let reviewer: ProvenanceTestReviewer;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        ProvenanceTestingModule.forRoot({
          policy: {
            name: 'refunds',
            rules: [
              {
                action: 'refunds.issue',
                conditions: [{ field: 'amount', operator: '<=', value: 0 }],
                on_match: 'BLOCK',
                reason: 'a refund is a positive amount',
              },
              {
                action: 'refunds.issue',
                conditions: [{ field: 'amount', operator: '>', value: 100 }],
                on_match: 'ESCALATE',
                on_violation: 'ALLOW',
                reason: 'refunds over 100 need a human',
              },
            ],
          },
        }),
      ],
      providers: [RefundsService],
    }).compile();
    await moduleRef.init();
    refunds = moduleRef.get(RefundsService);
    reviewer = moduleRef.get(ProvenanceTestReviewer);
  });

  afterEach(() => moduleRef.close());

  it('issues a small refund without asking anyone', async () => {
    await expect(refunds.issue('ord_1', 20)).resolves.toBe('refunded 20 on ord_1');
  });

  it('never runs a blocked refund', async () => {
    await expect(refunds.issue('ord_2', -5)).rejects.toBeInstanceOf(PolicyBlockedError);
    expect(refunds.refunded).toEqual([]);
  });

  it('issues a large refund once a human approves it', async () => {
    const refund = refunds.issue('ord_3', 250);
    const held = await reviewer.nextEscalation();
    expect(held.parameters).toEqual({ orderId: 'ord_3', amount: 250 });
    expect(refunds.refunded).toEqual([]); // still waiting

    await reviewer.approveNext('customer called');
    await expect(refund).resolves.toBe('refunded 250 on ord_3');
  });

  it('drops a large refund a human rejects', async () => {
    const refund = refunds.issue('ord_4', 900);
    await reviewer.rejectNext('duplicate claim');
    await expect(refund).rejects.toBeInstanceOf(EscalationRejectedError);
    expect(refunds.refunded).toEqual([]);
  });

  it('records who decided in the audit log', async () => {
    reviewer.autoApprove = true;
    await refunds.issue('ord_5', 300);
    const events = await moduleRef.get(ProvenanceGateway).audit!.list();
    expect(events.map((e) => [e.decision, e.actorHumanId])).toEqual([
      ['ESCALATE', null],
      ['ALLOW', 'test-approver'],
    ]);
  });
});
