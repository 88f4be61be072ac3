/*
 * The gateway server's audit API shows the policy each event was decided
 * with (policy_hash, policy_version, snake_case like the rest of the wire),
 * and its integrity check covers them.
 */
import { compilePolicy } from '../../../lib/engine/policy/policy.compiler';
import { TEST_POLICY, call, startServer, type TestServer } from './server.helpers';

describe('gateway server: policy identity in GET /v1/audit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('express');
  });
  afterAll(async () => {
    await server.close();
  });

  it('every decision names the tenant policy; the integrity check is valid', async () => {
    const policy = compilePolicy(TEST_POLICY);
    const decided = await call(server, 'POST', '/v1/gateway/execute', {
      session_id: 'sess_0123456789abcdef',
      agent_id: 'agent-1',
      action: 'payments.initiate',
      parameters: { amount: 10, currency: 'GBP' },
      decision: 'BLOCK',
    });
    expect(decided.status).toBe(200);
    const listed = await call(server, 'GET', `/v1/audit/${server.tenantId}`);
    expect(listed.status).toBe(200);
    expect(listed.body.events).toEqual([
      expect.objectContaining({
        kind: 'decision',
        policy_hash: policy.hash,
        policy_version: policy.version,
      }),
    ]);
    expect(listed.body.events[0].policy_hash).toMatch(/^[0-9a-f]{64}$/);
    const integrity = await call(server, 'GET', `/v1/audit/integrity/${server.tenantId}`);
    expect(integrity.body.integrity).toMatchObject({ valid: true, events_checked: 1 });
  });
});
