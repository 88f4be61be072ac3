import { ProvenanceConfigError } from '../../../lib';
import { createGatewayServer } from '../../../lib/server/factory';
import { readStandaloneSettings } from '../../../lib/server/standalone-settings';
import { WebhookReceiver } from '../../fixtures/webhook-receiver.fixture';
import { call, startServer, TEST_POLICY, type TestServer } from '../server/server.helpers';

const SECRET = 'whsec_server_0123456789abcdef';

describe('the gateway server posts its tenants’ escalations (notify)', () => {
  let receiver: WebhookReceiver;
  let server: TestServer;

  beforeEach(async () => {
    receiver = await WebhookReceiver.start(SECRET);
    server = await startServer('express', { notify: [{ url: receiver.url, secret: SECRET }] });
  });
  afterEach(async () => {
    await server.close();
    await receiver.close();
  });

  it('pending, then rejected, signed, with the tenant of the key', async () => {
    const accepted = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      {
        session_id: 'sess_webhooks',
        agent_id: 'agent-server',
        action: 'payments.initiate',
        parameters: { amount: 500 },
        decision: 'ALLOW',
      },
      { Prefer: 'respond-async' },
    );
    expect(accepted.status).toBe(202);
    const id = accepted.body.escalation_id as string;
    const decided = await call(server.reviewer('bob'), 'POST', `/v1/escalations/${id}/decide`, {
      decision: 'REJECT',
      approver_id: 'bob',
      reason: 'not this month',
    });
    expect(decided.status).toBe(200);

    const hooks = await receiver.waitFor(2);
    expect(hooks.map((h) => [h.body.type, h.body.escalationId, h.body.tenant, h.verified])).toEqual(
      [
        ['pending', id, server.tenantId, true],
        ['rejected', id, server.tenantId, true],
      ],
    );
    expect(hooks[1].body).toMatchObject({ approverId: 'bob', agentId: 'agent-server' });
  });
});

describe('the server’s notify option and its environment variables', () => {
  it('refuses a bad target at start-up, naming the field, without the secret', async () => {
    const error = await createGatewayServer({
      keys: [
        { key: 'pk_test_0123456789abcdef0123456789abcdef', tenantId: 't', policy: TEST_POLICY },
      ],
      notify: [{ url: 'http://127.0.0.1/x', secret: 'tooshort' }],
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as Error).message).toMatch(/`notify\[0\]\.secret`/);
    expect((error as Error).message).not.toContain('tooshort');
  });

  it('reads PROVENANCE_NOTIFY_URL, _SECRET and _EVENTS for the standalone gateway', () => {
    const read = (env: Record<string, string>) => readStandaloneSettings(env, () => undefined);
    expect(read({}).notify).toBeUndefined();
    expect(
      read({
        PROVENANCE_NOTIFY_URL: 'https://ops.example.com/hook',
        PROVENANCE_NOTIFY_SECRET: SECRET,
        PROVENANCE_NOTIFY_EVENTS: 'pending, expired',
      }).notify,
    ).toEqual([
      { url: 'https://ops.example.com/hook', secret: SECRET, events: ['pending', 'expired'] },
    ]);
    expect(() => read({ PROVENANCE_NOTIFY_URL: 'https://ops.example.com/hook' })).toThrow(
      /both PROVENANCE_NOTIFY_URL and PROVENANCE_NOTIFY_SECRET/,
    );
    expect(() =>
      read({
        PROVENANCE_NOTIFY_URL: 'https://ops.example.com/hook',
        PROVENANCE_NOTIFY_SECRET: 'short',
      }),
    ).toThrow(/notify\[0\]\.secret.*PROVENANCE_NOTIFY_SECRET/);
  });
});
