import type { INestApplication } from '@nestjs/common';
import * as path from 'node:path';
import { generateApiKey } from '../../../lib/server/api-keys';
import { createGatewayServer } from '../../../lib/server/factory';
import { GatewayServerTenants } from '../../../lib/server/tenants';
import { createSampleApp } from '../../../sample/sample.app';
import { sampleOptionsFromEnv } from '../../../sample/sample.options';
import { baseUrl, getJson, postJson } from './sample-http';
import { SseClient } from './sse.client';

/**
 * The sample configured from the environment as `PROVENANCE_GATEWAY_URL=...
 * npm start` would be, against a standalone gateway server (a second app on
 * its own loopback port): decisions, escalations and review all go over HTTP.
 */
describe('sample agent backend on a remote gateway', () => {
  let gatewayServer: INestApplication;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const key = generateApiKey('test');
    gatewayServer = await createGatewayServer(
      {
        keys: [
          { key, tenantId: 'acme', policy: path.join(__dirname, '../../../sample/policy.yml') },
        ],
        audit: { store: 'memory' },
        escalationTimeoutMs: 30_000,
        // The sample reviews through its one client, the agent's key: a gateway that
        // separates the roles refuses that (test/security/separation-of-duties.e2e-spec.ts).
        reviewAnyKey: true,
      },
      { logger: false },
    );
    await gatewayServer.listen(0, '127.0.0.1');

    const options = sampleOptionsFromEnv({
      PROVENANCE_GATEWAY_URL: baseUrl(gatewayServer.getHttpServer()),
      PROVENANCE_API_KEY: key,
      PROVENANCE_AGENT_ID: 'remote-agent',
      SAMPLE_REVIEWER_TOKENS: 'remote-cfo-token=cfo@example.com',
    });
    app = await createSampleApp({ ...options, logger: false });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
    await gatewayServer?.close();
  });

  it('gets its decisions from the remote gateway, and reviews its escalations there', async () => {
    const cfo = { Authorization: 'Bearer remote-cfo-token' };
    const stream = await SseClient.open(`${url}/review/escalations/stream`, cfo);
    try {
      const agentCall = postJson(`${url}/agent/run`, {
        plan: [
          { tool: 'payments.initiate', args: { amount: 50, currency: 'USD', recipientId: 'r1' } },
          { tool: 'payments.initiate', args: { amount: 800, currency: 'GBP', recipientId: 'r2' } },
          { tool: 'data.delete', args: { table: 'customers', id: 'cus_1' } },
        ],
      });
      const pending = JSON.parse((await stream.next((e) => e.event === 'pending')).data);
      expect(pending).toMatchObject({ action: 'payments.initiate', agentId: 'remote-agent' });

      const listed = await getJson(`${url}/review/escalations/pending`, cfo);
      expect(listed.body.map((r: any) => r.id)).toContain(pending.escalationId);

      const decided = await postJson(
        `${url}/review/escalations/${pending.escalationId}/approve`,
        { approverId: 'cfo@example.com', reason: 'Verified' },
        cfo,
      );
      expect(decided.status).toBe(200);

      const reply = await agentCall;
      expect(reply.body.steps.map((s: any) => [s.outcome, s.decision, s.reason])).toEqual([
        ['allowed', 'ALLOW', 'Payment within approved parameters'],
        ['allowed', 'ALLOW', 'Escalation APPROVED by cfo@example.com'],
        ['blocked', 'BLOCK', 'Agents may not modify stored data (data.* is blocked)'],
      ]);
      expect(reply.body.steps[1].actorHumanId).toBe('cfo@example.com');
    } finally {
      stream.close();
    }
  });

  it("reads the remote gateway's audit log, as the gateway's own log reads it", async () => {
    const log = gatewayServer.get(GatewayServerTenants).get('acme')!.audit;
    const [first] = await log.list({ limit: 1, offset: 0 });
    const listed = await getJson(`${url}/audit?session=${first.sessionId}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      sessionId: first.sessionId,
      events: JSON.parse(JSON.stringify(await log.list({ sessionId: first.sessionId }))),
    });
    const verified = await getJson(`${url}/audit/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: true, eventsChecked: await log.count() });
  });
});
