/**
 * A gateway server on PostgreSQL whose database goes away answers every call
 * it cannot decide or record with 500, never 503: a 503 says "not decided,
 * the server is shutting down", which a client with onGatewayError 'open'
 * may answer for itself with ALLOW. A call the policy escalates meets the
 * grant store first, a keyed call the idempotency store: both must fail
 * closed like the audit log does. Only a closing server answers 503.
 */
import type { INestApplication } from '@nestjs/common';
import { generateApiKey } from '../../lib/server/api-keys';
import { createGatewayServer } from '../../lib/server/factory';
import { describeWithPostgres, usePostgres } from '../fixtures/postgres.fixture';
import { DbProxy } from '../e2e/postgres/escalation-replicas.fixture';
import { call, TEST_POLICY } from '../e2e/server/server.helpers';

const AGENT_KEY = generateApiKey('test');

const body = (amount: number, extra: Record<string, unknown> = {}) => ({
  session_id: 'sess_0123456789abcdef',
  agent_id: 'agent-x',
  action: 'payments.initiate',
  parameters: { amount },
  decision: 'ALLOW',
  ...extra,
});

describeWithPostgres('a gateway server whose database is down', () => {
  const db = usePostgres();
  const proxy = new DbProxy();
  let app: INestApplication;
  let server: { url: string; apiKey: string };

  beforeAll(async () => {
    await proxy.open();
    app = await createGatewayServer(
      {
        keys: [{ key: AGENT_KEY, tenantId: 'tenant-down', policy: TEST_POLICY }],
        postgres: { connectionString: proxy.connectionString, schema: db.schema },
        escalationTimeoutMs: 5_000,
      },
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    server = { url: `http://127.0.0.1:${port}`, apiKey: AGENT_KEY };
    // The server works while the database answers.
    const allowed = await call(server, 'POST', '/v1/gateway/execute', body(5));
    expect(allowed.status).toBe(200);
    expect(allowed.body.decision).toBe('ALLOW');
  });

  afterAll(async () => {
    proxy.restore();
    await app?.close();
    await proxy.close();
  });

  it.each([
    ['a call the policy allows (the audit log)', body(5)],
    ['a call the policy escalates (the grant store)', body(5_000)],
    ['a keyed call (the idempotency store)', body(5, { idempotency_key: 'key-down-1' })],
  ])('%s: 500, never 503 and never ALLOW', async (_name, request) => {
    proxy.cut();
    try {
      const answer = await call(server, 'POST', '/v1/gateway/execute', request);
      expect(answer.status).toBe(500);
      expect(answer.body?.decision).toBeUndefined();
    } finally {
      proxy.restore();
    }
  });
});
