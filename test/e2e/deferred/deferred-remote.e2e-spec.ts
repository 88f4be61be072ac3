import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ApprovalForbiddenError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type ProvenanceModuleOptions,
} from '../../../lib';
import { startServer, type TestServer } from '../server/server.helpers';
import {
  APPROVER,
  approvedDeferredCall,
  decidedAsExecute,
  expectDeferred,
  rejectedDeferredCall,
  type DeferredSides,
} from './deferred.fixture';

const AGENT = 'agent-deferred-remote';

async function bootAgent(
  server: TestServer,
  options: Partial<ProvenanceModuleOptions>,
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        gatewayUrl: server.url,
        agentId: AGENT,
        apiKey: server.apiKey,
        timeout: 5_000,
        ...options,
      }),
    ],
  })
  class AgentModule {}
  return NestFactory.createApplicationContext(AgentModule, { logger: false, abortOnError: false });
}

const CLIENTS: Array<[string, Partial<ProvenanceModuleOptions>]> = [
  ['asyncEscalation (202 + wait), axios', { asyncEscalation: true }],
  ['asyncEscalation: false (held requests)', { asyncEscalation: false }],
  ["httpClient 'node'", { httpClient: 'node' }],
];

describe.each(CLIENTS)('executeDeferred against our gateway server: %s', (_name, options) => {
  let server: TestServer;
  let app: INestApplicationContext;
  let agent: ProvenanceGateway;
  let console: ProvenanceGateway;
  let sides: DeferredSides;

  beforeEach(async () => {
    // TEST_POLICY says what DEFERRED_POLICY says: payments over 100 escalate, data.delete is blocked.
    server = await startServer('express');
    app = await bootAgent(server, options);
    agent = app.get(ProvenanceGateway);
    // The review side: its own client with a reviewer key whose principal is the approver.
    console = new ProvenanceGateway({
      gatewayUrl: server.url,
      apiKey: server.reviewerKeys[APPROVER],
      agentId: 'review-console',
      timeout: 5_000,
    });
    const reviewer = new ProvenanceReviewer(console, { pollInterval: 25 });
    sides = {
      agent,
      reviewer,
      // Asked of the server with the reviewer key: what the gateway holds, not this process.
      pendingIds: async () => (await reviewer.pending()).map((record) => record.id),
    };
  });

  afterEach(async () => {
    await app.close();
    await console.close();
    await server.close();
  });

  it('ESCALATE resolves with the hold left pending at the server; the approval allows the identical call once', async () => {
    await approvedDeferredCall(sides);
    expect((await agent.audit.verify()).valid).toBe(true);
    const kinds = (await agent.audit.list()).map((event) => event.kind);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'escalation.pending',
        'escalation.approved',
        'grant.created',
        'grant.used',
      ]),
    );
    expect(kinds).not.toContain('escalation.withdrawn');
    // This process will not see the end of a detached hold: it is not listed as its own.
    expect(agent.pendingEscalationEvents()).toEqual([]);
  });

  it('a rejection leaves no grant; ALLOW and BLOCK as execute()', async () => {
    await rejectedDeferredCall(sides);
    await decidedAsExecute(agent);
  });

  it("the agent's own key cannot approve its deferred call", async () => {
    const id = expectDeferred(await agent.executeDeferred('payments.initiate', { amount: 700 }));
    await expect(
      app.get(ProvenanceReviewer).approve(id, { approverId: APPROVER, reason: 'mine' }),
    ).rejects.toBeInstanceOf(ApprovalForbiddenError);
    expect(await sides.pendingIds()).toContain(id);
  });
});
