import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication, LoggerService } from '@nestjs/common';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import { ProvenanceConfigError } from '../../lib/protocol/provenance.errors';
import { generateApiKey } from '../../lib/server/api-keys';
import { createGatewayServer } from '../../lib/server/factory';
import { startStandaloneGateway } from '../../lib/server/main';
import type { ProvenanceGatewayServerOptions } from '../../lib/server/options';
import { PLATFORMS, call, type Platform } from '../e2e/server/server.helpers';

/**
 * Separation of duties on the gateway server: the credential an agent runs
 * with can raise escalations and wait for them, never decide them; a
 * decision is recorded in the name the reviewer's credential carries, not in
 * whatever name a request body gives; an agent key bound to an agent id
 * cannot write another agent's name into the audit trail.
 *
 * The attack these tests replay, found by a security review against
 * `npm run gateway`: the agent's own key escalated a 99 999 payment, then
 * approved it "as cfo@example.com" 120 ms later, and the audit recorded that
 * name.
 */

const POLICY: PolicyDocument = {
  name: 'separation-of-duties',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ name: 'small', field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Small payments are fine',
    },
  ],
};

const AGENT_ID = 'payments-agent';
const PRINCIPAL = 'cfo@example.com';

interface Server {
  app: INestApplication;
  url: string;
  tenantId: string;
  agentKey: string;
  /** An agent key bound to `AGENT_ID` (`agentId` on the key entry). */
  boundAgentKey: string;
  reviewerKey: string;
  warnings: string[];
  close(): Promise<void>;
}

function capturingLogger(warnings: string[]): LoggerService {
  return {
    log: () => undefined,
    error: (message: unknown) => warnings.push(`error: ${String(message)}`),
    warn: (message: unknown) => warnings.push(String(message)),
    debug: () => undefined,
    verbose: () => undefined,
  };
}

async function start(
  platform: Platform,
  overrides: Partial<ProvenanceGatewayServerOptions> = {},
): Promise<Server> {
  const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-sod-'));
  const agentKey = generateApiKey('test');
  const boundAgentKey = generateApiKey('test');
  const reviewerKey = generateApiKey('test');
  const tenantId = 'acme';
  const warnings: string[] = [];
  const app = await createGatewayServer(
    {
      keys: [
        { key: agentKey, tenantId, policy: POLICY },
        { key: boundAgentKey, tenantId, policy: POLICY, agentId: AGENT_ID },
        // The same policy object, so the current code (which needs one per key) starts too.
        { key: reviewerKey, tenantId, policy: POLICY, role: 'reviewer', principal: PRINCIPAL },
      ],
      audit: { store: 'file', dir: auditDir, durable: false },
      escalationTimeoutMs: 10_000,
      logger: capturingLogger(warnings),
      ...overrides,
    },
    { platform, logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    tenantId,
    agentKey,
    boundAgentKey,
    reviewerKey,
    warnings,
    async close() {
      await app.close();
      fs.rmSync(auditDir, { recursive: true, force: true });
    },
  };
}

function as(server: Server, key: string) {
  return { url: server.url, apiKey: key };
}

function payment(amount: number, agentId = AGENT_ID) {
  return {
    session_id: 'sess_0123456789abcdef',
    agent_id: agentId,
    action: 'payments.initiate',
    parameters: { amount, currency: 'GBP', recipient_id: 'rec_attacker' },
    decision: 'ALLOW',
  };
}

/** Escalates a 99 999 payment with the agent's key; answers at once (202) with the escalation id. */
async function escalate(server: Server, key = server.agentKey): Promise<string> {
  const accepted = await call(as(server, key), 'POST', '/v1/gateway/execute', payment(99_999), {
    Prefer: 'respond-async',
  });
  expect(accepted.status).toBe(202);
  return accepted.body.escalation_id as string;
}

async function auditEvents(server: Server): Promise<any[]> {
  const audit = await call(as(server, server.agentKey), 'GET', `/v1/audit/${server.tenantId}`);
  expect(audit.status).toBe(200);
  return audit.body.events;
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each(PLATFORMS)('separation of duties on the gateway server (%s)', (platform) => {
  let server: Server;

  beforeEach(async () => {
    server = await start(platform);
  });
  afterEach(async () => {
    await server.close();
  });

  it('the attack: an agent key cannot approve its own 99 999 payment as cfo@example.com', async () => {
    const id = await escalate(server);
    const decided = await call(
      as(server, server.agentKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      {
        decision: 'APPROVE',
        approver_id: 'cfo@example.com',
        reason: 'Verified with CFO',
      },
    );
    expect(decided.status).toBe(403);
    expect(decided.body).toEqual({ detail: { message: expect.any(String) } });
    const message: string = decided.body.detail.message;
    expect(message).toMatch(/'agent'/);
    expect(message).toMatch(/'reviewer'/);
    expect(message).not.toContain(server.agentKey);

    // Still pending: the agent's own wait says so, and the reviewer still sees it.
    const wait = await call(
      as(server, server.agentKey),
      'GET',
      `/v1/escalations/${id}/wait?timeout_ms=0`,
    );
    expect(wait.status).toBe(204);
    const pending = await call(as(server, server.reviewerKey), 'GET', '/v1/escalations/pending');
    expect(pending.body.escalations).toEqual([
      expect.objectContaining({ id, status: 'PENDING', approver_id: null }),
    ]);
    // The audit shows the escalation and no approval, and nobody's name.
    const events = await auditEvents(server);
    expect(events.map((event) => event.kind)).toEqual(['escalation.pending']);
    expect(events.every((event) => event.actor_human_id === null)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('cfo@example.com');
  });

  it('an agent key may not list escalations either (403 naming both roles)', async () => {
    for (const route of ['/v1/escalations/pending', '/v1/escalations/']) {
      const listed = await call(as(server, server.agentKey), 'GET', route);
      expect(listed.status).toBe(403);
      expect(listed.body.detail.message).toMatch(/'agent'.*'reviewer'/);
    }
  });

  it('a reviewer key naming another approver_id is 403, and the call stays pending', async () => {
    const id = await escalate(server);
    const decided = await call(
      as(server, server.reviewerKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      { decision: 'APPROVE', approver_id: 'ceo@example.com', reason: 'trust me' },
    );
    expect(decided.status).toBe(403);
    expect(decided.body).toEqual({ detail: { message: expect.stringContaining(PRINCIPAL) } });
    expect(decided.body.detail.message).not.toContain(server.reviewerKey);
    const wait = await call(
      as(server, server.agentKey),
      'GET',
      `/v1/escalations/${id}/wait?timeout_ms=0`,
    );
    expect(wait.status).toBe(204);
    expect((await auditEvents(server)).map((event) => event.kind)).toEqual(['escalation.pending']);
  });

  it('a reviewer key without approver_id decides as its principal: answer, held call and audit name it', async () => {
    const id = await escalate(server);
    const decided = await call(
      as(server, server.reviewerKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      { decision: 'APPROVE', reason: 'Verified' },
    );
    expect(decided.status).toBe(200);
    expect(decided.body).toEqual({
      escalation_id: id,
      decision: 'APPROVE',
      approver_id: PRINCIPAL,
      reason: 'Verified',
    });
    const final = await call(as(server, server.agentKey), 'GET', `/v1/escalations/${id}/wait`);
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({
      decision: 'ALLOW',
      reason: `Escalation APPROVED by ${PRINCIPAL}`,
      escalation_id: id,
      actor_human_id: PRINCIPAL,
    });
    const events = await auditEvents(server);
    expect(events.map((event) => [event.kind, event.actor_human_id])).toEqual([
      ['escalation.pending', null],
      ['escalation.approved', PRINCIPAL],
    ]);
    const listed = await call(as(server, server.reviewerKey), 'GET', '/v1/escalations/');
    expect(listed.body.escalations).toEqual([
      expect.objectContaining({ id, status: 'APPROVED', approver_id: PRINCIPAL }),
    ]);
  });

  it('a reviewer key giving its own principal as approver_id (the reference body) decides', async () => {
    const id = await escalate(server);
    const decided = await call(
      as(server, server.reviewerKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      { decision: 'REJECT', approver_id: PRINCIPAL, reason: null },
    );
    expect(decided.status).toBe(200);
    expect(decided.body.approver_id).toBe(PRINCIPAL);
    const final = await call(as(server, server.agentKey), 'GET', `/v1/escalations/${id}/wait`);
    expect(final.body).toMatchObject({ decision: 'BLOCK', actor_human_id: PRINCIPAL });
  });

  it('an agent key bound to an agent id cannot act as another agent (403, nothing audited)', async () => {
    const other = await call(
      as(server, server.boundAgentKey),
      'POST',
      '/v1/gateway/execute',
      payment(10, 'treasury-agent'),
    );
    expect(other.status).toBe(403);
    expect(other.body).toEqual({ detail: { message: expect.stringContaining(AGENT_ID) } });
    expect(other.body.detail.message).toContain('treasury-agent');
    expect(other.body.detail.message).not.toContain(server.boundAgentKey);
    expect(await auditEvents(server)).toEqual([]);

    const own = await call(
      as(server, server.boundAgentKey),
      'POST',
      '/v1/gateway/execute',
      payment(10),
    );
    expect(own.status).toBe(200);
    expect(own.body.decision).toBe('ALLOW');
    expect((await auditEvents(server)).map((event) => event.agent_id)).toEqual([AGENT_ID]);
  });

  it('a reviewer key is not an agent: 403 on execute, nothing audited', async () => {
    const executed = await call(
      as(server, server.reviewerKey),
      'POST',
      '/v1/gateway/execute',
      payment(10),
    );
    expect(executed.status).toBe(403);
    expect(executed.body.detail.message).toMatch(/'reviewer'.*'agent'/);
    expect(executed.body.detail.message).not.toContain(server.reviewerKey);
    const id = await escalate(server);
    // Nor does it wait on the agent's escalations.
    const wait = await call(
      as(server, server.reviewerKey),
      'GET',
      `/v1/escalations/${id}/wait?timeout_ms=0`,
    );
    expect(wait.status).toBe(403);
    expect((await auditEvents(server)).map((event) => event.kind)).toEqual(['escalation.pending']);
  });

  it('both roles read the audit trail and its integrity', async () => {
    for (const key of [server.agentKey, server.reviewerKey]) {
      expect((await call(as(server, key), 'GET', `/v1/audit/${server.tenantId}`)).status).toBe(200);
      expect(
        (await call(as(server, key), 'GET', `/v1/audit/integrity/${server.tenantId}`)).status,
      ).toBe(200);
    }
  });

  it('reviewAnyKey: true restores the reference behaviour (any key decides as the body says) and warns', async () => {
    expect(server.warnings.join('\n')).not.toMatch(/reviewAnyKey/);
    await server.close();
    server = await start(platform, { reviewAnyKey: true });
    expect(server.warnings).toEqual([expect.stringMatching(/reviewAnyKey.*INSECURE/s)]);
    const id = await escalate(server);
    const listed = await call(as(server, server.agentKey), 'GET', '/v1/escalations/pending');
    expect(listed.status).toBe(200);
    // The reference requires approver_id.
    const missing = await call(
      as(server, server.agentKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      {
        decision: 'APPROVE',
      },
    );
    expect(missing.status).toBe(422);
    const decided = await call(
      as(server, server.agentKey),
      'POST',
      `/v1/escalations/${id}/decide`,
      {
        decision: 'APPROVE',
        approver_id: 'cfo@example.com',
      },
    );
    expect(decided.status).toBe(200);
    const final = await call(as(server, server.agentKey), 'GET', `/v1/escalations/${id}/wait`);
    expect(final.body).toMatchObject({ decision: 'ALLOW', actor_human_id: 'cfo@example.com' });
    // A reviewer key stays bound to its principal, and is still not an agent.
    const second = await escalate(server);
    const forged = await call(
      as(server, server.reviewerKey),
      'POST',
      `/v1/escalations/${second}/decide`,
      { decision: 'APPROVE', approver_id: 'ceo@example.com' },
    );
    expect(forged.status).toBe(403);
    expect(
      (await call(as(server, server.reviewerKey), 'POST', '/v1/gateway/execute', payment(1)))
        .status,
    ).toBe(403);
  });
});

describe('separation of duties: start-up checks', () => {
  async function refusal(options: Partial<ProvenanceGatewayServerOptions>): Promise<any> {
    return rejection(
      createGatewayServer(
        { audit: { store: 'memory' }, ...options } as ProvenanceGatewayServerOptions,
        { logger: false },
      ),
    );
  }

  it('a reviewer key needs a principal', async () => {
    const reviewerKey = generateApiKey('test');
    const error = await refusal({
      keys: [
        { key: generateApiKey('test'), tenantId: 't', policy: POLICY },
        { key: reviewerKey, tenantId: 't', role: 'reviewer' },
      ],
    });
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.option).toBe('keys[1].principal');
    expect(error.message).toContain('keys[1].principal');
    expect(error.message).not.toContain(reviewerKey);
  });

  it('a role must be agent or reviewer', async () => {
    const error = await refusal({
      keys: [
        { key: generateApiKey('test'), tenantId: 't', policy: POLICY, role: 'admin' as never },
      ],
    });
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.option).toBe('keys[0].role');
    expect(error.message).toMatch(/keys\[0\]\.role.*'agent' or 'reviewer'/);
  });

  it('principal only on reviewer keys, agentId only on agent keys, both non-empty strings', async () => {
    const cases: Array<[object, string]> = [
      [{ policy: POLICY, principal: 'cfo' }, 'keys[0].principal'],
      [{ role: 'reviewer', principal: '' }, 'keys[0].principal'],
      [{ role: 'reviewer', principal: PRINCIPAL, agentId: 'a' }, 'keys[0].agentId'],
      [{ policy: POLICY, agentId: 42 }, 'keys[0].agentId'],
    ];
    for (const [entry, option] of cases) {
      const error = await refusal({
        keys: [{ key: generateApiKey('test'), tenantId: 't', ...entry } as never],
      });
      expect(error).toBeInstanceOf(ProvenanceConfigError);
      expect(error.option).toBe(option);
    }
  });

  it('a reviewer key needs no policy, but its tenant needs an agent key with one', async () => {
    const reviewerKey = generateApiKey('test');
    const app = await createGatewayServer(
      {
        keys: [
          { key: reviewerKey, tenantId: 't', role: 'reviewer', principal: PRINCIPAL },
          { key: generateApiKey('test'), tenantId: 't', policy: POLICY },
        ],
        audit: { store: 'memory' },
      },
      { logger: false },
    );
    await app.close();
    const error = await refusal({
      keys: [
        { key: generateApiKey('test'), tenantId: 't', policy: POLICY },
        { key: reviewerKey, tenantId: 'nobody', role: 'reviewer', principal: PRINCIPAL },
      ],
    });
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.option).toBe('keys[1].tenantId');
  });

  it('apiKeys is another name for keys; giving both is refused', async () => {
    const app = await createGatewayServer(
      {
        apiKeys: [{ key: generateApiKey('test'), tenantId: 't', policy: POLICY }],
        audit: { store: 'memory' },
      },
      { logger: false },
    );
    await app.close();
    const both = await refusal({
      keys: [{ key: generateApiKey('test'), tenantId: 't', policy: POLICY }],
      apiKeys: [{ key: generateApiKey('test'), tenantId: 't', policy: POLICY }],
    });
    expect(both).toBeInstanceOf(ProvenanceConfigError);
    expect(both.option).toBe('apiKeys');
  });

  it('reviewAnyKey must be a boolean', async () => {
    const error = await refusal({
      keys: [{ key: generateApiKey('test'), tenantId: 't', policy: POLICY }],
      reviewAnyKey: 'yes' as never,
    });
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.option).toBe('reviewAnyKey');
  });
});

describe('separation of duties: npm run gateway (startStandaloneGateway)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-sod-main-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function env(extra: Record<string, string>): Record<string, string> {
    return {
      PORT: '0',
      PROVENANCE_AUDIT_DIR: dir,
      PROVENANCE_TENANT_ID: 'acme',
      PROVENANCE_API_KEY: generateApiKey('test'),
      ...extra,
    };
  }

  it('PROVENANCE_REVIEWER_API_KEY + PROVENANCE_REVIEWER_ID add a reviewer key; the agent key cannot decide', async () => {
    const reviewerKey = generateApiKey('test');
    const vars = env({
      PROVENANCE_REVIEWER_API_KEY: reviewerKey,
      PROVENANCE_REVIEWER_ID: PRINCIPAL,
    });
    const lines: string[] = [];
    const started = await startStandaloneGateway(vars, (line) => lines.push(line));
    try {
      const out = lines.join('\n');
      expect(out).not.toContain(reviewerKey);
      expect(out).not.toContain(vars.PROVENANCE_API_KEY);
      expect(out).toContain(PRINCIPAL);
      expect(out).toMatch(/PROVENANCE_REVIEWER_API_KEY/);
      const agent = { url: started.url, apiKey: vars.PROVENANCE_API_KEY };
      const reviewer = { url: started.url, apiKey: reviewerKey };
      const accepted = await call(
        agent,
        'POST',
        '/v1/gateway/execute',
        { ...payment(99_999), parameters: { amount: 99_999, currency: 'GBP', recipient_id: 'r' } },
        { Prefer: 'respond-async' },
      );
      // sample/policy.yml escalates payments over 500.
      expect(accepted.status).toBe(202);
      const id = accepted.body.escalation_id;
      const forged = await call(agent, 'POST', `/v1/escalations/${id}/decide`, {
        decision: 'APPROVE',
        approver_id: PRINCIPAL,
      });
      expect(forged.status).toBe(403);
      const decided = await call(reviewer, 'POST', `/v1/escalations/${id}/decide`, {
        decision: 'REJECT',
      });
      expect(decided.status).toBe(200);
      expect(decided.body.approver_id).toBe(PRINCIPAL);
    } finally {
      await started.app.close();
    }
  });

  it('without a reviewer key it says how to add one and that /decide is refused', async () => {
    const lines: string[] = [];
    const started = await startStandaloneGateway(env({}), (line) => lines.push(line));
    await started.app.close();
    expect(lines.join('\n')).toMatch(
      /PROVENANCE_REVIEWER_API_KEY.*PROVENANCE_REVIEWER_ID|PROVENANCE_REVIEWER_ID.*PROVENANCE_REVIEWER_API_KEY/,
    );
    expect(lines.join('\n')).toMatch(/decide.*refused/i);
  });

  it('only one of the two reviewer variables is a start-up error naming both, never the key', async () => {
    const reviewerKey = generateApiKey('test');
    const halves: Array<Record<string, string>> = [
      { PROVENANCE_REVIEWER_API_KEY: reviewerKey },
      { PROVENANCE_REVIEWER_ID: PRINCIPAL },
    ];
    for (const extra of halves) {
      const error = await rejection(startStandaloneGateway(env(extra), () => undefined));
      expect(String(error.message)).toMatch(/PROVENANCE_REVIEWER_API_KEY/);
      expect(String(error.message)).toMatch(/PROVENANCE_REVIEWER_ID/);
      expect(String(error.message)).not.toContain(reviewerKey);
    }
    const bad = await rejection(
      startStandaloneGateway(
        env({ PROVENANCE_REVIEWER_API_KEY: 'not-a-key-secret', PROVENANCE_REVIEWER_ID: PRINCIPAL }),
        () => undefined,
      ),
    );
    expect(String(bad.message)).toMatch(/PROVENANCE_REVIEWER_API_KEY/);
    expect(String(bad.message)).not.toContain('not-a-key-secret');
  });

  it('the reviewer key may not be the agent key, and the insecure switch takes only true or false', async () => {
    const vars = env({});
    const same = await rejection(
      startStandaloneGateway(
        {
          ...vars,
          PROVENANCE_REVIEWER_API_KEY: vars.PROVENANCE_API_KEY,
          PROVENANCE_REVIEWER_ID: PRINCIPAL,
        },
        () => undefined,
      ),
    );
    expect(String(same.message)).toMatch(
      /PROVENANCE_REVIEWER_API_KEY is the same key as PROVENANCE_API_KEY/,
    );
    expect(String(same.message)).not.toContain(vars.PROVENANCE_API_KEY);
    const vague = await rejection(
      startStandaloneGateway(env({ PROVENANCE_INSECURE_ANY_KEY_DECIDES: 'yes' }), () => undefined),
    );
    expect(String(vague.message)).toMatch(/PROVENANCE_INSECURE_ANY_KEY_DECIDES/);
  });

  it('PROVENANCE_INSECURE_ANY_KEY_DECIDES=true lets the agent key decide, and warns', async () => {
    const vars = env({ PROVENANCE_INSECURE_ANY_KEY_DECIDES: 'true' });
    const lines: string[] = [];
    const started = await startStandaloneGateway(vars, (line) => lines.push(line));
    try {
      expect(lines.join('\n')).toMatch(/INSECURE/);
      const agent = { url: started.url, apiKey: vars.PROVENANCE_API_KEY };
      const accepted = await call(
        agent,
        'POST',
        '/v1/gateway/execute',
        { ...payment(99_999), parameters: { amount: 99_999, currency: 'GBP', recipient_id: 'r' } },
        { Prefer: 'respond-async' },
      );
      const decided = await call(
        agent,
        'POST',
        `/v1/escalations/${accepted.body.escalation_id}/decide`,
        {
          decision: 'REJECT',
          approver_id: 'someone',
        },
      );
      expect(decided.status).toBe(200);
    } finally {
      await started.app.close();
    }
  });
});
