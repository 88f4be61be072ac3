import 'reflect-metadata';
import { inspect } from 'node:util';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import {
  ApprovalForbiddenError,
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type ProvenanceModuleOptions,
} from '../../lib';
import { PLATFORMS, startServer, type TestServer } from '../e2e/server/server.helpers';

/**
 * Against our gateway server, whose keys have roles, the module's reviewer
 * decides only with a reviewer key of its own (`reviewer.apiKey`): with the
 * agent's key alone it can watch, and its approvals are refused.
 */
async function boot(
  server: TestServer,
  reviewer: ProvenanceModuleOptions['reviewer'],
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        gatewayUrl: server.url,
        apiKey: server.apiKey,
        agentId: 'agent-remote',
        timeout: 5_000,
        reviewer,
      }),
    ],
  })
  class AgentModule {}
  return NestFactory.createApplicationContext(AgentModule, { logger: false, abortOnError: false });
}

describe.each(PLATFORMS)("the module's reviewer over HTTP (%s)", (platform) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer(platform);
  });
  afterEach(async () => {
    await server.close();
  });

  async function heldCall(gateway: ProvenanceGateway) {
    const pending = firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
    const call = gateway.execute('payments.initiate', { amount: 500 }).catch((error) => error);
    return { id: (await pending).escalationId, call };
  }

  it('with the agent key alone, an approval is refused (403) and the call stays held', async () => {
    const app = await boot(server, { pollInterval: 25 });
    try {
      const gateway = app.get(ProvenanceGateway);
      const { id, call } = await heldCall(gateway);
      const refused = await app
        .get(ProvenanceReviewer)
        .approve(id, { approverId: 'cfo@example.com' })
        .catch((error) => error);
      expect(refused).toBeInstanceOf(ApprovalForbiddenError);
      expect(String(refused.message)).not.toContain(server.apiKey);
      expect(gateway.pendingEscalationEvents().map((e) => e.escalationId)).toEqual([id]);
      await gateway.close();
      await call;
    } finally {
      await app.close();
    }
  });

  it('with reviewer.apiKey it lists and decides as that key, recorded as its principal', async () => {
    const app = await boot(server, { pollInterval: 25, apiKey: server.reviewerKeys.alice });
    try {
      const gateway = app.get(ProvenanceGateway);
      const reviewer = app.get(ProvenanceReviewer);
      const { id, call } = await heldCall(gateway);
      expect((await reviewer.pending()).map((r) => r.id)).toEqual([id]);
      await reviewer.approve(id, { approverId: 'alice' });
      expect(await call).toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
      expect(inspect(reviewer, { depth: Infinity })).not.toContain(server.reviewerKeys.alice);
    } finally {
      await app.close();
    }
  });

  it('reviewer.apiKey with the embedded gateway is a start-up error naming the option', () => {
    const gateway = new ProvenanceGateway({
      agentId: 'a',
      policy: { name: 'p', rules: [{ action: '*', on_match: 'BLOCK' }] },
      audit: { store: 'memory' },
    });
    expect(() => new ProvenanceReviewer(gateway, { apiKey: 'pk_test_12345678abc' })).toThrow(
      ProvenanceConfigError,
    );
    expect(() => new ProvenanceReviewer(gateway, { apiKey: 'pk_test_12345678abc' })).toThrow(
      /reviewer\.apiKey/,
    );
    return gateway.close();
  });
});
