import type { INestApplication } from '@nestjs/common';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { generateApiKey } from '../../../lib/server/api-keys';
import { createGatewayServer } from '../../../lib/server/factory';
import { startStandaloneGateway } from '../../../lib/server/main';
import type { ProvenanceGatewayServerOptions } from '../../../lib/server/options';
import {
  describeWithPostgres,
  TEST_DATABASE_URL,
  usePostgres,
} from '../../fixtures/postgres.fixture';
import { call, eventually, TEST_POLICY } from '../server/server.helpers';

const TENANT = 'tenant-a';
const AGENT_KEY = generateApiKey('test');
const REVIEWER_KEY = generateApiKey('test');
const OTHER_TENANT_KEY = generateApiKey('test');
const SESSION = 'sess_0123456789abcdef';

function body(parameters: Record<string, unknown>) {
  return {
    session_id: SESSION,
    agent_id: 'agent-x',
    action: 'payments.initiate',
    parameters,
    decision: 'ALLOW',
  };
}

interface Replica {
  app: INestApplication;
  agent: { url: string; apiKey: string };
  reviewer: { url: string; apiKey: string };
  otherTenant: { url: string; apiKey: string };
}

/** One gateway server process's worth: a Nest app on port 0, on the shared schema. */
async function startReplica(schema: string): Promise<Replica> {
  const options: ProvenanceGatewayServerOptions = {
    keys: [
      { key: AGENT_KEY, tenantId: TENANT, policy: TEST_POLICY },
      { key: REVIEWER_KEY, tenantId: TENANT, role: 'reviewer', principal: 'cfo' },
      { key: OTHER_TENANT_KEY, tenantId: 'tenant-b', policy: TEST_POLICY },
    ],
    postgres: { connectionString: TEST_DATABASE_URL, schema },
    escalationTimeoutMs: 20_000,
  };
  const app = await createGatewayServer(options, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    agent: { url, apiKey: AGENT_KEY },
    reviewer: { url, apiKey: REVIEWER_KEY },
    otherTenant: { url, apiKey: OTHER_TENANT_KEY },
  };
}

/** The one pending escalation B's reviewer lists (after A held it). */
function pendingOn(replica: Replica, amount: number): Promise<{ id: string; status: string }> {
  return eventually(async () => {
    const listed = await call(replica.reviewer, 'GET', '/v1/escalations/pending');
    expect(listed.status).toBe(200);
    return listed.body.escalations.find(
      (e: { parameters?: { amount?: number } }) => e.parameters?.amount === amount,
    );
  });
}

describeWithPostgres('gateway servers sharing one PostgreSQL schema', () => {
  const db = usePostgres();
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    a = await startReplica(db.schema);
    b = await startReplica(db.schema);
  });
  afterAll(async () => {
    await Promise.all([a?.app.close(), b?.app.close()]);
  });

  it("A holds a call, B lists and approves it, A's waiting execute answers ALLOW", async () => {
    const execute = call(a.agent, 'POST', '/v1/gateway/execute', body({ amount: 700 }));
    const held = await pendingOn(b, 700);
    expect(held.status).toBe('PENDING');
    const all = await call(b.reviewer, 'GET', '/v1/escalations');
    expect(all.body.escalations.map((e: { id: string }) => e.id)).toContain(held.id);

    const decided = await call(b.reviewer, 'POST', `/v1/escalations/${held.id}/decide`, {
      decision: 'APPROVE',
      reason: 'checked',
    });
    expect(decided.status).toBe(200);
    const answer = await execute;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      decision: 'ALLOW',
      escalation_id: held.id,
      actor_human_id: 'cfo',
      reason: 'Escalation APPROVED by cfo',
    });
    // Decided once: a second decision on either server is a 404.
    const again = await call(a.reviewer, 'POST', `/v1/escalations/${held.id}/decide`, {
      decision: 'REJECT',
    });
    expect(again.status).toBe(404);
  });

  it("/wait on B for A's escalation: 204 while pending, the ending's answer once B decides", async () => {
    const accepted = await call(a.agent, 'POST', '/v1/gateway/execute', body({ amount: 800 }), {
      Prefer: 'respond-async',
    });
    expect(accepted.status).toBe(202);
    const id = accepted.body.escalation_id as string;
    expect((await call(b.agent, 'GET', `/v1/escalations/${id}/wait?timeout_ms=50`)).status).toBe(
      204,
    );
    const waiting = call(b.agent, 'GET', `/v1/escalations/${id}/wait?timeout_ms=15000`);
    const decided = await call(b.reviewer, 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'APPROVE',
    });
    expect(decided.status).toBe(200);
    const final = await waiting;
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({
      decision: 'ALLOW',
      escalation_id: id,
      actor_human_id: 'cfo',
    });
    // Asked again, on either server, after the end: the same recorded answer.
    expect((await call(b.agent, 'GET', `/v1/escalations/${id}/wait`)).body).toEqual(final.body);
    expect((await call(a.agent, 'GET', `/v1/escalations/${id}/wait`)).body).toEqual(final.body);
  });

  it('/wait on B answers a rejection decided on A as BLOCK, and 404 for an unknown or other tenant', async () => {
    const accepted = await call(a.agent, 'POST', '/v1/gateway/execute', body({ amount: 900 }), {
      Prefer: 'respond-async',
    });
    const id = accepted.body.escalation_id as string;
    const waiting = call(b.agent, 'GET', `/v1/escalations/${id}/wait?timeout_ms=15000`);
    await pendingOn(b, 900);
    const rejected = await call(a.reviewer, 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'REJECT',
      reason: 'no',
    });
    expect(rejected.status).toBe(200);
    const final = await waiting;
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({
      decision: 'BLOCK',
      escalation_id: id,
      actor_human_id: 'cfo',
    });
    expect((await call(b.otherTenant, 'GET', `/v1/escalations/${id}/wait`)).status).toBe(404);
    expect((await call(b.agent, 'GET', '/v1/escalations/no-such-id/wait')).status).toBe(404);
  });

  it("a server closing lets go of its waits on another server's escalation (204), at once", async () => {
    const c = await startReplica(db.schema);
    const accepted = await call(a.agent, 'POST', '/v1/gateway/execute', body({ amount: 950 }), {
      Prefer: 'respond-async',
    });
    const id = accepted.body.escalation_id as string;
    const waiting = call(c.agent, 'GET', `/v1/escalations/${id}/wait?timeout_ms=60000`);
    // The long poll has its connection on C before C closes.
    await eventually(
      () =>
        new Promise<true | undefined>((resolve) =>
          c.app.getHttpServer().getConnections((_error: unknown, n: number) => {
            resolve(n > 0 ? true : undefined);
          }),
        ),
    );
    await c.app.close();
    expect((await waiting).status).toBe(204);
    // Still pending for the others, and still decidable.
    const decided = await call(b.reviewer, 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'REJECT',
    });
    expect(decided.status).toBe(200);
  });

  it('one audit chain per tenant, verified intact on both servers', async () => {
    const fromA = await call(a.reviewer, 'GET', `/v1/audit/${TENANT}`);
    const fromB = await call(b.reviewer, 'GET', `/v1/audit/${TENANT}`);
    expect(fromA.status).toBe(200);
    expect(fromB.body).toEqual(fromA.body);
    for (const server of [a, b]) {
      const integrity = await call(server.reviewer, 'GET', `/v1/audit/integrity/${TENANT}`);
      expect(integrity.status).toBe(200);
      expect(integrity.body.integrity).toMatchObject({ tenant_id: TENANT, valid: true });
    }
    const rows = await db.pool.query(
      `SELECT count(*)::int AS n FROM "${db.schema}".audit_events WHERE tenant_id = $1`,
      [TENANT],
    );
    expect(rows.rows[0].n).toBeGreaterThanOrEqual(6);
  });
});

describeWithPostgres('npm run gateway with PROVENANCE_DATABASE_URL', () => {
  const db = usePostgres();

  it('migrate: false on a schema without the tables fails at start-up, naming postgres.migrate', async () => {
    const app = await createGatewayServer(
      {
        keys: [{ key: AGENT_KEY, tenantId: TENANT, policy: TEST_POLICY }],
        postgres: {
          connectionString: TEST_DATABASE_URL,
          schema: db.newSchemaName(),
          migrate: false,
        },
      },
      { logger: false },
    );
    // init() (listen() runs it) opens the tenants: the schema is checked there.
    const error = await app.init().then(
      () => null,
      (e: unknown) => e,
    );
    await app.close();
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe('postgres.migrate');
  });

  it('serves from PostgreSQL: the decision is a row of the schema, and the banner hides the password', async () => {
    const schema = db.newSchemaName();
    const lines: string[] = [];
    // Trust auth ignores the password; the banner must not show it.
    const url = new URL(TEST_DATABASE_URL);
    url.password = 'not-a-real-password';
    const gateway = await startStandaloneGateway(
      {
        PORT: '0',
        PROVENANCE_DATABASE_URL: url.toString(),
        PROVENANCE_DATABASE_SCHEMA: schema,
        PROVENANCE_API_KEY: AGENT_KEY,
        PROVENANCE_POLICY: 'sample/policy.yml',
      },
      (line) => lines.push(line),
    );
    try {
      expect(gateway.tenantId).toBe('default');
      expect(lines.join('\n')).toContain(`schema "${schema}"`);
      expect(lines.join('\n')).not.toContain('not-a-real-password');
      const answer = await call(
        { url: gateway.url, apiKey: AGENT_KEY },
        'POST',
        '/v1/gateway/execute',
        body({ amount: 50, currency: 'GBP', recipient_id: 'rec_abc123' }),
      );
      expect(answer.status).toBe(200);
      const rows = await db.pool.query(
        `SELECT tenant_id, event_id FROM (SELECT tenant_id, id AS event_id FROM "${schema}".audit_events) e`,
      );
      expect(rows.rows).toEqual([{ tenant_id: 'default', event_id: answer.body.event_id }]);
    } finally {
      await gateway.app.close();
    }
  });
});
