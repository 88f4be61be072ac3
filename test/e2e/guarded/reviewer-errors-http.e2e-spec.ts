import 'reflect-metadata';
import {
  Body,
  Controller,
  Delete,
  Module,
  Param,
  Post,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { filter, firstValueFrom } from 'rxjs';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { ProvenanceExceptionFilter } from '../../../lib/guarded/provenance-exception.filter';
import { ProvenanceModule } from '../../../lib/module/provenance.module';
import type { ReviewInput } from '../../../lib/protocol/gateway.types';

/** The app's own review endpoints: they hand the body to the reviewer as it came. */
@Controller('decisions')
class DecisionsController {
  constructor(private readonly reviewer: ProvenanceReviewer) {}

  @Post(':id/approve')
  approve(@Param('id') id: string, @Body() body: ReviewInput) {
    return this.reviewer.approve(id, body);
  }

  @Post(':id/reject')
  reject(@Param('id') id: string, @Body() body: ReviewInput) {
    return this.reviewer.reject(id, body);
  }

  @Delete('grants/:id')
  revoke(@Param('id') id: string, @Body() body: { revokedBy: string }) {
    return this.reviewer.revokeGrant(id, body);
  }
}

const AGENT = 'agent-http';

@Module({
  imports: [
    ProvenanceModule.forRoot({
      agentId: AGENT,
      policy: { name: 'h', rules: [{ action: 'payments.*', on_match: 'ESCALATE' }] },
      audit: { store: 'memory' },
      escalationTimeout: 20_000,
      logger: { log() {}, warn() {}, error() {} },
    }),
  ],
  controllers: [DecisionsController],
  providers: [{ provide: APP_FILTER, useClass: ProvenanceExceptionFilter }],
})
class ReviewAppModule {}

describe.each(['express', 'fastify'] as const)(
  'A controller calling ProvenanceReviewer, behind ProvenanceExceptionFilter (%s)',
  (adapter) => {
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      app = await NestFactory.create(
        ReviewAppModule,
        adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(),
        { logger: false },
      );
      await app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/decisions`;
    });
    afterAll(() => app.close());

    const post = async (path: string, sent: unknown, method = 'POST') => {
      const response = await fetch(`${base}/${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sent),
      });
      const body = (await response.json()) as Record<string, unknown> & { message: string };
      return { status: response.status, body };
    };

    /** A real held call, and its id as the gateway announced it. */
    async function held(): Promise<{ id: string; call: Promise<unknown> }> {
      const gateway = app.get(ProvenanceGateway);
      const announced = firstValueFrom(
        gateway.escalations$.pipe(filter((e) => e.type === 'pending')),
      );
      const call = gateway.execute('payments.initiate', { amount: 900 });
      call.catch(() => undefined);
      return { id: (await announced).escalationId, call };
    }

    it('an unknown escalation id answers 404, naming the id', async () => {
      const answer = await post('esc_unknown/approve', { approverId: 'alice' });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatchObject({
        statusCode: 404,
        error: 'Not Found',
        escalationId: 'esc_unknown',
        decision: null,
      });
      expect(answer.body.message).toContain("'esc_unknown'");
    });

    it('an escalation already decided answers 404 the second time', async () => {
      const { id, call } = await held();
      const first = await post(`${id}/reject`, { approverId: 'alice', reason: 'no' });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({
        escalationId: id,
        decision: 'REJECT',
        approverId: 'alice',
      });
      await expect(call).rejects.toThrow(/rejected/);
      const second = await post(`${id}/approve`, { approverId: 'bob' });
      expect(second.status).toBe(404);
    });

    it('a missing approver answers 400, naming approverId; the call stays held', async () => {
      const { id, call } = await held();
      const answer = await post(`${id}/approve`, { reason: 'looks fine' });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request', decision: null });
      expect(answer.body.message).toContain('`approverId`');
      expect(await app.get(ProvenanceReviewer).pending()).toEqual([
        expect.objectContaining({ id, status: 'PENDING' }),
      ]);
      expect((await post(`${id}/approve`, { approverId: 'alice' })).status).toBe(201);
      await expect(call).resolves.toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
    });

    it('a reason that is not text answers 400, naming reason', async () => {
      const answer = await post('esc_any/reject', { approverId: 'alice', reason: 42 });
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain('`reason`');
    });

    it('the agent approving its own call answers 403 (four eyes), not a BLOCK', async () => {
      const { id, call } = await held();
      const answer = await post(`${id}/approve`, { approverId: AGENT });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatchObject({ error: 'Forbidden', decision: null, escalationId: id });
      expect((await post(`${id}/reject`, { approverId: 'alice' })).status).toBe(201);
      await expect(call).rejects.toThrow(/rejected/);
    });

    it('revoking a grant that is not active answers 404; without revokedBy 400', async () => {
      const unknown = await post('grants/grant_nope', { revokedBy: 'alice' }, 'DELETE');
      expect(unknown.status).toBe(404);
      expect(unknown.body.message).toContain("'grant_nope'");
      const anonymous = await post('grants/grant_nope', {}, 'DELETE');
      expect(anonymous.status).toBe(400);
      expect(anonymous.body.message).toContain('`revokedBy`');
    });
  },
);
