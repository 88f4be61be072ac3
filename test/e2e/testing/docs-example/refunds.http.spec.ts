import { Body, Controller, Param, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ProvenanceExceptionFilter, ProvenanceReviewer } from '../../../../lib';
import { ProvenanceTestingModule } from '../../../../lib/testing';
import { RefundsService } from './refunds.service';

@Controller()
class RefundsController {
  constructor(
    private readonly refunds: RefundsService,
    private readonly reviewer: ProvenanceReviewer,
  ) {}

  @Post('orders/:id/refund')
  refund(@Param('id') id: string, @Body() body: { amount: number }) {
    return this.refunds.issue(id, body.amount);
  }

  @Post('escalations/:id/approve')
  approve(@Param('id') id: string, @Body() body: { approverId: string }) {
    return this.reviewer.approve(id, body);
  }
}

describe('RefundsController over HTTP', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ProvenanceTestingModule.forRoot({
          // No policy: decide() answers every call (one it leaves undefined is blocked).
          decide: (action, parameters) =>
            action === 'refunds.issue' && Number(parameters?.amount) < 1000 ? 'ALLOW' : 'BLOCK',
        }),
      ],
      controllers: [RefundsController],
      providers: [RefundsService, { provide: APP_FILTER, useClass: ProvenanceExceptionFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  const post = (path: string, body: object) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers 201 for an allowed refund, 403 for a blocked one', async () => {
    expect((await post('/orders/ord_1/refund', { amount: 10 })).status).toBe(201);
    const blocked = await post('/orders/ord_2/refund', { amount: 5000 });
    expect(blocked.status).toBe(403);
    expect(await blocked.json()).toMatchObject({ decision: 'BLOCK', action: 'refunds.issue' });
  });

  it('answers 404 for an unknown escalation and 400 without an approver', async () => {
    expect((await post('/escalations/nope/approve', { approverId: 'ana' })).status).toBe(404);
    expect((await post('/escalations/nope/approve', {})).status).toBe(400);
  });
});
