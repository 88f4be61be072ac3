/*
 * A guarded route refused because too many calls are already held for a
 * human answers 429 through ProvenanceExceptionFilter (not 500), and its
 * body did not run.
 */
import 'reflect-metadata';
import { Body, Controller, Injectable, Module, Post, type INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { filter, firstValueFrom } from 'rxjs';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { Guarded } from '../../../lib/guarded/guarded.decorator';
import { ProvenanceExceptionFilter } from '../../../lib/guarded/provenance-exception.filter';
import { ProvenanceModule } from '../../../lib/module/provenance.module';

const ran: number[] = [];

@Injectable()
class Payments {
  @Guarded('payments.initiate')
  async initiate(amount: number): Promise<{ paid: number }> {
    ran.push(amount);
    return { paid: amount };
  }
}

@Controller('payments')
class PaymentsController {
  constructor(private readonly payments: Payments) {}

  @Post()
  pay(@Body() body: { amount: number }) {
    return this.payments.initiate(body.amount);
  }
}

@Module({
  imports: [
    ProvenanceModule.forRoot({
      agentId: 'agent-limit',
      policy: { name: 'limit', rules: [{ action: 'payments.*', on_match: 'ESCALATE' }] },
      audit: { store: 'memory' },
      maxPendingEscalations: 1,
      escalationTimeout: 20_000,
      logger: { log() {}, warn() {}, error() {} },
    }),
  ],
  controllers: [PaymentsController],
  providers: [Payments, { provide: APP_FILTER, useClass: ProvenanceExceptionFilter }],
})
class LimitAppModule {}

describe('ProvenanceExceptionFilter: the escalation limit', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(LimitAppModule, new ExpressAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/payments`;
  });
  afterAll(() => app.close());

  const pay = (amount: number) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount }),
    });

  it('a call over the limit answers 429 naming the action; its body never runs', async () => {
    const gateway = app.get(ProvenanceGateway);
    const announced = firstValueFrom(
      gateway.escalations$.pipe(filter((e) => e.type === 'pending')),
    );
    const first = pay(100); // held: the one allowed hold
    const pending = await announced;

    const second = await pay(200);
    expect(second.status).toBe(429);
    const body = (await second.json()) as Record<string, unknown> & { message: string };
    expect(body).toMatchObject({
      statusCode: 429,
      error: 'Too Many Requests',
      action: 'payments.initiate',
      decision: null,
    });
    expect(body.message).toContain("'payments.initiate'");

    await app.get(ProvenanceReviewer).reject(pending.escalationId, {
      approverId: 'alice',
      reason: 'test over',
    });
    expect((await first).status).toBe(403);
    expect(ran).toEqual([]);
  });
});
