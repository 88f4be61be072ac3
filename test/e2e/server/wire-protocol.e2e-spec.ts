import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PLATFORMS, call, eventually, startServer, type TestServer } from './server.helpers';

const AGENT = '6f1c2d3e-0000-4000-8000-00000000a9e1';
const SESSION = 'sess_0123456789abcdef';
const GENESIS = createHash('sha256').update('PROVENANCE:GENESIS').digest('hex');

/** The execute body as the Python SDK sends it: snake_case, the caller's `decision` hint, no Prefer header. */
function sdkBody(action: string, parameters: Record<string, unknown> | null, extra: object = {}) {
  return { session_id: SESSION, agent_id: AGENT, action, parameters, decision: 'ALLOW', ...extra };
}

describe.each(PLATFORMS)('gateway server wire protocol (%s)', (platform) => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer(platform);
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers /health without a key', async () => {
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('ALLOW and BLOCK are 200 answers with the reference fields', async () => {
    const allowed = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 50, currency: 'GBP' }),
    );
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toMatch(/^application\/json/);
    expect(allowed.body).toEqual({
      event_id: expect.any(String),
      decision: 'ALLOW',
      reason: 'Small payments are fine',
      escalation_id: null,
      actor_human_id: null,
    });
    const blocked = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('data.delete', { table: 'users' }),
    );
    expect(blocked.status).toBe(200);
    expect(blocked.body).toMatchObject({
      decision: 'BLOCK',
      reason: 'Deleting data is not allowed',
      escalation_id: null,
    });
    const other = await call(server, 'POST', '/v1/gateway/execute', sdkBody('email.send', null));
    expect(other.body).toMatchObject({
      decision: 'ALLOW',
      reason: 'No rule matched; default ALLOW',
    });
  });

  it('401 with the reference bodies for a missing or wrong key, and never echoes the key', async () => {
    const missing = await fetch(`${server.url}/v1/gateway/execute`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(sdkBody('email.send', null)),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ detail: { message: 'Not authenticated' } });

    // Same prefix as the real key, different body: found by prefix, refused by digest.
    const forged = server.apiKey.slice(0, -4) + (server.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const key of [forged, 'pk_test_notakey12345', 'garbage']) {
      const wrong = await call({ url: server.url, apiKey: key }, 'GET', '/v1/escalations/pending');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ detail: { message: 'Invalid api-key or revoked api-key.' } });
      expect(JSON.stringify(wrong.body)).not.toContain(key);
    }
  });

  it('422 in FastAPI form for schema violations', async () => {
    const missing = await call(server, 'POST', '/v1/gateway/execute', { action: 'email.send' });
    expect(missing.status).toBe(422);
    expect(missing.body.detail.map((d: any) => d.loc)).toEqual([
      ['body', 'session_id'],
      ['body', 'agent_id'],
      ['body', 'decision'],
    ]);
    expect(missing.body.detail[0]).toMatchObject({ type: 'missing', msg: 'Field required' });

    const badTypes = await call(server, 'POST', '/v1/gateway/execute', {
      session_id: 7,
      agent_id: AGENT,
      action: 'email.send',
      parameters: [1, 2],
      decision: 'MAYBE',
    });
    expect(badTypes.status).toBe(422);
    expect(badTypes.body.detail).toEqual([
      {
        type: 'string_type',
        loc: ['body', 'session_id'],
        msg: 'Input should be a valid string',
        input: 7,
      },
      {
        type: 'dict_type',
        loc: ['body', 'parameters'],
        msg: 'Input should be a valid dictionary',
        input: [1, 2],
      },
      expect.objectContaining({ type: 'enum', loc: ['body', 'decision'], input: 'MAYBE' }),
    ]);

    const notJson = await call(server, 'POST', '/v1/gateway/execute', '{"session_id": ');
    expect(notJson.status).toBe(422);
    expect(notJson.body.detail[0]).toMatchObject({ type: 'json_invalid', loc: ['body', 0] });

    const array = await call(server, 'POST', '/v1/gateway/execute', [1]);
    expect(array.status).toBe(422);
    expect(array.body.detail[0]).toMatchObject({ type: 'model_attributes_type', loc: ['body'] });
  });

  it('413 with a JSON body above the size limit', async () => {
    const big = sdkBody('email.send', { blob: 'x'.repeat(1024 * 1024 + 64 * 1024) });
    const response = await call(server, 'POST', '/v1/gateway/execute', big);
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ detail: { message: expect.stringContaining('too large') } });
  });

  it('an unknown tenant_policy_id is a 200 BLOCK, as the reference', async () => {
    const response = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('email.send', null, { tenant_policy_id: 'nope' }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      decision: 'BLOCK',
      reason: 'tenant_policy_id not found',
    });
  });

  it('holds an escalated request without Prefer, and answers the reference texts on approval', async () => {
    const held = call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 800, currency: 'GBP', recipient_id: 'rec_xyz789' }),
    );
    const pending = await eventually(async () => {
      const list = await call(
        server.reviewer(),
        'GET',
        `/v1/escalations/pending?tenant_id=${server.tenantId}&offset=0&limit=100`,
      );
      return list.body.escalations.length === 1 ? list.body.escalations[0] : undefined;
    });
    expect(pending).toMatchObject({
      tenant_id: server.tenantId,
      agent_id: AGENT,
      action: 'payments.initiate',
      status: 'PENDING',
      approver_id: null,
      decided_at: null,
      session_id: SESSION,
      // Python's json.dumps(sort_keys=True, separators=(",", ":")) of the parameters, by hand:
      parameters_hash: createHash('sha256')
        .update('{"amount":800,"currency":"GBP","recipient_id":"rec_xyz789"}')
        .digest('hex'),
    });
    const decided = await call(server.reviewer(), 'POST', `/v1/escalations/${pending.id}/decide`, {
      decision: 'APPROVE',
      approver_id: 'cfo@example.com',
      reason: 'Verified with CFO',
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toEqual({
      escalation_id: pending.id,
      decision: 'APPROVE',
      approver_id: 'cfo@example.com',
      reason: 'Verified with CFO',
    });
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      event_id: expect.any(String),
      decision: 'ALLOW',
      reason: 'Escalation APPROVED by cfo@example.com',
      escalation_id: pending.id,
      actor_human_id: 'cfo@example.com',
    });
    // Exactly the reference shape for a client that did not ask for our extension:
    // the reviewer's own reason (approver_reason) is sent only with Prefer: respond-async and /wait.
    const all = await call(
      server.reviewer(),
      'GET',
      `/v1/escalations/?tenant_id=${server.tenantId}`,
    );
    expect(all.body.escalations).toEqual([
      expect.objectContaining({
        id: pending.id,
        status: 'APPROVED',
        approver_id: 'cfo@example.com',
      }),
    ]);
    const nowPending = await call(server.reviewer(), 'GET', '/v1/escalations/pending');
    expect(nowPending.body).toEqual({ escalations: [] });
  });

  it('rejection and timeout give the reference reason texts', async () => {
    const held = call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 100.5 }),
    );
    const id = await eventually(
      async () =>
        (await call(server.reviewer(), 'GET', '/v1/escalations/pending')).body.escalations[0]?.id,
    );
    await call(server.reviewer('risk'), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'REJECT',
      approver_id: 'risk',
      reason: null,
    });
    expect((await held).body).toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation REJECT — action blocked',
      escalation_id: id,
      actor_human_id: 'risk',
    });

    await server.close();
    server = await startServer(platform, { escalationTimeoutMs: 150 });
    const expired = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 101 }),
    );
    expect(expired.body).toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation TIMEOUT — action blocked',
      escalation_id: expect.any(String),
    });
  });

  it('decide: 422 for missing fields, 400 for another word, 404 for unknown, resolved or another tenant', async () => {
    // A reviewer key may leave approver_id out (its principal is used: test/security/separation-of-duties);
    // the reference's 422 for a missing approver_id holds with `reviewAnyKey` (tested there too).
    const reviewer = server.reviewer('a');
    const missing = await call(reviewer, 'POST', '/v1/escalations/x/decide', { approver_id: 'a' });
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0]).toMatchObject({ type: 'missing', loc: ['body', 'decision'] });
    const mistyped = await call(reviewer, 'POST', '/v1/escalations/x/decide', {
      decision: 'APPROVE',
      approver_id: 7,
    });
    expect(mistyped.status).toBe(422);
    expect(mistyped.body.detail[0]).toMatchObject({
      type: 'string_type',
      loc: ['body', 'approver_id'],
    });
    const word = await call(reviewer, 'POST', '/v1/escalations/x/decide', {
      decision: 'MAYBE',
      approver_id: 'a',
    });
    expect(word.status).toBe(400);
    expect(word.body).toEqual({ detail: { message: 'Invalid decision. Use: APPROVE | REJECT' } });
    const unknown = await call(reviewer, 'POST', '/v1/escalations/nope/decide', {
      decision: 'APPROVE',
      approver_id: 'a',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      detail: { message: "Escalation 'nope' not found or already resolved" },
    });

    const accepted = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 500 }),
      { Prefer: 'respond-async' },
    );
    const id = accepted.body.escalation_id;
    const other = { url: server.url, apiKey: server.otherKey };
    const otherReviewer = { url: server.url, apiKey: server.otherReviewerKey };
    const foreign = await call(otherReviewer, 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'APPROVE',
      approver_id: 'mallory',
    });
    expect(foreign.status).toBe(404);
    expect((await call(other, 'GET', `/v1/escalations/${id}/wait?timeout_ms=0`)).status).toBe(404);
    expect((await call(otherReviewer, 'GET', '/v1/escalations/pending')).body).toEqual({
      escalations: [],
    });
    expect(
      (
        await call(server.reviewer('bob'), 'POST', `/v1/escalations/${id}/decide`, {
          decision: 'REJECT',
          approver_id: 'bob',
        })
      ).status,
    ).toBe(200);
    const again = await call(server.reviewer('bob'), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'APPROVE',
      approver_id: 'bob',
    });
    expect(again.status).toBe(404);
  });

  it('async extension: 202 + Preference-Applied, then /wait answers 204 while pending and 200 once decided', async () => {
    const accepted = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      sdkBody('payments.initiate', { amount: 500 }),
      { Prefer: 'respond-async' },
    );
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');
    expect(accepted.body).toEqual({
      escalation_id: expect.any(String),
      status: 'PENDING',
      action: 'payments.initiate',
      reason: 'Small payments are fine',
      created_at: expect.any(String),
      expires_at: expect.any(String),
    });
    // escalationTimeoutMs is 10 000 in these tests.
    expect(Date.parse(accepted.body.expires_at) - Date.parse(accepted.body.created_at)).toBe(
      10_000,
    );
    const id = accepted.body.escalation_id;
    const early = await call(server, 'GET', `/v1/escalations/${id}/wait?timeout_ms=50`);
    expect(early.status).toBe(204);
    const waiting = call(server, 'GET', `/v1/escalations/${id}/wait?timeout_ms=5000`);
    await call(server.reviewer('ops'), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'APPROVE',
      approver_id: 'ops',
    });
    const final = await waiting;
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({
      decision: 'ALLOW',
      reason: 'Escalation APPROVED by ops',
      escalation_id: id,
      actor_human_id: 'ops',
    });
    // Asking again after the end still answers.
    expect((await call(server, 'GET', `/v1/escalations/${id}/wait`)).body).toEqual(final.body);
    expect((await call(server, 'GET', '/v1/escalations/unknown/wait')).status).toBe(404);
  });

  it('idempotency_key: a retry gets the first answer, is not decided again, and is audited as a replay', async () => {
    const body = sdkBody('email.send', { to: 'a@example.com' }, { idempotency_key: 'idem-1' });
    const first = await call(server, 'POST', '/v1/gateway/execute', body);
    const second = await call(server, 'POST', '/v1/gateway/execute', body);
    expect(second.body).toEqual(first.body);
    const audit = await call(server, 'GET', `/v1/audit/${server.tenantId}?limit=100`);
    // One decision; the retry is recorded as a replay of it (the engine audits replays).
    expect(audit.body.events.map((event: any) => event.kind)).toEqual([
      'decision',
      'decision.replayed',
    ]);
    expect(audit.body.events[0]).toMatchObject({
      id: first.body.event_id,
      action: 'email.send',
      tenant_id: server.tenantId,
      prev_hash: GENESIS,
    });
    expect(audit.body.events[1]).toMatchObject({
      action: 'email.send',
      decision: first.body.decision,
      reason: expect.stringContaining(first.body.event_id),
      prev_hash: audit.body.events[0].hash,
    });
  });

  it('audit and integrity are scoped to the key’s tenant (403 otherwise)', async () => {
    expect((await call(server, 'GET', `/v1/audit/${server.otherTenantId}`)).status).toBe(403);
    expect((await call(server, 'GET', `/v1/audit/integrity/${server.otherTenantId}`)).status).toBe(
      403,
    );
    const otherTenant = await call(
      server.reviewer(),
      'GET',
      `/v1/escalations/pending?tenant_id=${server.otherTenantId}`,
    );
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.body.detail.message).toContain('another tenant');
    for (const key of Object.values(server.reviewerKeys)) {
      expect(
        (await call({ url: server.url, apiKey: key }, 'GET', `/v1/audit/${server.otherTenantId}`))
          .status,
      ).toBe(403);
    }
  });

  it('integrity: valid for an untouched log, then names the event edited in the file', async () => {
    for (const amount of [1, 2, 3]) {
      await call(server, 'POST', '/v1/gateway/execute', sdkBody('payments.initiate', { amount }));
    }
    const clean = await call(server, 'GET', `/v1/audit/integrity/${server.tenantId}`);
    expect(clean.body.integrity).toMatchObject({
      tenant_id: server.tenantId,
      valid: true,
      events_checked: 3,
      violations: [],
    });

    const file = path.join(server.auditDir, `${server.tenantId}.audit.jsonl`);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    // Turn the second payment's decision into BLOCK: only the event hash can notice.
    expect(lines[1]).toContain('"decision":"ALLOW"');
    lines[1] = lines[1].replace('"decision":"ALLOW"', '"decision":"BLOCK"');
    fs.writeFileSync(file, lines.join('\n'));

    const tampered = await call(server, 'GET', `/v1/audit/integrity/${server.tenantId}`);
    expect(tampered.status).toBe(200);
    const integrity = tampered.body.integrity;
    expect(integrity.valid).toBe(false);
    expect(integrity.first_broken_position).toBe(1);
    expect(integrity.violations[0]).toMatchObject({
      position: 1,
      problem: 'hash-mismatch',
      expected_prev_hash: null,
      actual_prev_hash: null,
    });
    expect(Object.keys(integrity.violations[0])).toEqual(
      expect.arrayContaining(['position', 'event_id', 'expected_prev_hash', 'actual_prev_hash']),
    );
  });

  it('unknown routes answer FastAPI’s Not Found', async () => {
    const response = await call(server, 'GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ detail: 'Not Found' });
  });
});
