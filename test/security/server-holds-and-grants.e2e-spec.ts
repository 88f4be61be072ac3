import {
  PLATFORMS,
  call,
  eventually,
  startServer,
  type TestServer,
} from '../e2e/server/server.helpers';

/**
 * The gateway server's side of "approvals bind the exact call", on Express
 * and Fastify with real keys: a cap on held calls (429), withdrawal by the
 * agent, an approval after the held request's connection closed turning into
 * a single-use grant, standing grants for reviewer keys only, and the
 * reviewer's own reason reaching an extension client.
 */
const AGENT = 'agent-1';
function body(amount: number, extra: object = {}) {
  return {
    session_id: 'sess_sec',
    agent_id: AGENT,
    action: 'payments.initiate',
    parameters: { amount },
    decision: 'BLOCK',
    ...extra,
  };
}
const ASYNC = { Prefer: 'respond-async' };

describe.each(PLATFORMS)('server holds and grants (%s)', (platform) => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer(platform, { maxPendingEscalations: 3 });
  });
  afterEach(async () => {
    await server.close();
  });

  it('caps the calls held for a human: one more is 429 and never allowed; room again once one is decided', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const held = await call(server, 'POST', '/v1/gateway/execute', body(500 + i), ASYNC);
      expect(held.status).toBe(202);
      ids.push(held.body.escalation_id);
    }
    const refused = await call(server, 'POST', '/v1/gateway/execute', body(900), ASYNC);
    expect(refused.status).toBe(429);
    expect(JSON.stringify(refused.body)).toContain('maxPendingEscalations');
    const decided = await call(server.reviewer(), 'POST', `/v1/escalations/${ids[0]}/decide`, {
      decision: 'REJECT',
    });
    expect(decided.status).toBe(200);
    expect((await call(server, 'POST', '/v1/gateway/execute', body(901), ASYNC)).status).toBe(202);
  });

  it('the agent withdraws its held call; a reviewer can then decide nothing, and the audit says so', async () => {
    const held = await call(server, 'POST', '/v1/gateway/execute', body(700), ASYNC);
    const id = held.body.escalation_id;
    expect(
      (await call(server.reviewer(), 'POST', `/v1/escalations/${id}/withdraw`, {})).status,
    ).toBe(403);
    const withdrawn = await call(server, 'POST', `/v1/escalations/${id}/withdraw`, {});
    expect(withdrawn).toMatchObject({
      status: 200,
      body: { escalation_id: id, status: 'WITHDRAWN' },
    });
    expect((await call(server, 'POST', `/v1/escalations/${id}/withdraw`, {})).status).toBe(404);
    const decide = await call(server.reviewer(), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'APPROVE',
    });
    expect(decide.status).toBe(404);
    const wait = await call(server, 'GET', `/v1/escalations/${id}/wait?timeout_ms=1000`);
    expect(wait.body).toMatchObject({ decision: 'BLOCK', escalation_id: id });
    expect(wait.body.reason).toMatch(/^Escalation WITHDRAWN/);
    const audit = await call(server, 'GET', `/v1/audit/${server.tenantId}?limit=100`);
    expect(audit.body.events.map((e: any) => e.kind)).toEqual([
      'escalation.pending',
      'escalation.withdrawn',
    ]);
  });

  it("an approval after the held request's connection closed becomes a single-use grant for that exact call", async () => {
    const abort = new AbortController();
    const gone = fetch(`${server.url}/v1/gateway/execute`, {
      method: 'POST',
      headers: { 'X-PROVENANCE-API-KEY': server.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify(body(800)),
      signal: abort.signal,
    }).catch(() => 'aborted');
    const pending = await eventually(async () => {
      const list = await call(server.reviewer(), 'GET', '/v1/escalations/pending');
      return list.body.escalations[0];
    });
    abort.abort();
    expect(await gone).toBe('aborted');
    // The server notices the closed connection; then the approval has no caller to answer.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await call(server.reviewer(), 'POST', `/v1/escalations/${pending.id}/decide`, {
      decision: 'APPROVE',
    });
    const retried = await call(server, 'POST', '/v1/gateway/execute', body(800));
    expect(retried.body).toMatchObject({
      decision: 'ALLOW',
      escalation_id: pending.id,
      actor_human_id: 'cfo@example.com',
    });
    // Once only: the same call again goes to a human.
    const again = await call(server, 'POST', '/v1/gateway/execute', body(800), ASYNC);
    expect(again.status).toBe(202);
    const kinds = (
      await call(server, 'GET', `/v1/audit/${server.tenantId}?limit=100`)
    ).body.events.map((e: any) => e.kind);
    expect(kinds).toEqual([
      'escalation.pending',
      'grant.created',
      'escalation.approved',
      'grant.used',
      'escalation.pending',
    ]);
  });

  it('standing grants: reviewer keys only, as their own principal; a covered call runs without a hold', async () => {
    const grant = {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 1000 }],
      max_uses: 1,
      reason: 'batch run',
    };
    expect((await call(server, 'POST', '/v1/grants', grant)).status).toBe(403);
    expect(
      (await call(server.reviewer(), 'POST', '/v1/grants', { ...grant, granted_by: 'ceo' })).status,
    ).toBe(403);
    const bad = await call(server.reviewer(), 'POST', '/v1/grants', { ...grant, max_uses: 0 });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('maxUses');
    const made = await call(server.reviewer(), 'POST', '/v1/grants', grant);
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({
      kind: 'standing',
      granted_by: 'cfo@example.com',
      status: 'ACTIVE',
    });
    const listed = await call(server.reviewer(), 'GET', '/v1/grants');
    expect(listed.body.grants.map((g: any) => g.id)).toEqual([made.body.id]);
    expect((await call(server, 'GET', '/v1/grants')).status).toBe(403);

    const covered = await call(server, 'POST', '/v1/gateway/execute', body(900));
    expect(covered.body).toMatchObject({ decision: 'ALLOW', actor_human_id: 'cfo@example.com' });
    expect(covered.body.reason).toContain(made.body.id);
    // Used up: the next one is held again.
    expect((await call(server, 'POST', '/v1/gateway/execute', body(900), ASYNC)).status).toBe(202);

    const second = await call(server.reviewer(), 'POST', '/v1/grants', { ...grant, max_uses: 5 });
    const revoked = await call(
      server.reviewer(),
      'POST',
      `/v1/grants/${second.body.id}/revoke`,
      {},
    );
    expect(revoked.body.status).toBe('REVOKED');
    expect(
      (await call(server.reviewer(), 'POST', `/v1/grants/${second.body.id}/revoke`, {})).status,
    ).toBe(404);
  });

  it("a rejection's own reason reaches a client of our extension as approver_reason", async () => {
    const held = await call(server, 'POST', '/v1/gateway/execute', body(650), ASYNC);
    const id = held.body.escalation_id;
    await call(server.reviewer(), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'REJECT',
      reason: 'Not this quarter',
    });
    const wait = await call(server, 'GET', `/v1/escalations/${id}/wait?timeout_ms=1000`);
    expect(wait.body).toMatchObject({
      decision: 'BLOCK',
      approver_reason: 'Not this quarter',
      actor_human_id: 'cfo@example.com',
    });
  });
});
