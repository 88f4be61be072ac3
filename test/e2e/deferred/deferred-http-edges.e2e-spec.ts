import { Decision, GatewayError, ProvenanceGateway } from '../../../lib';
import {
  startReferenceGateway,
  type ReferenceGateway,
} from '../../fixtures/reference-gateway.fixture';

const AGENT = 'agent-deferred-edges';
const SILENT = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Servers other than ours: the reference gateway fixture, with or without our
 * 202 + /wait extension, and with no detach route. A deferred call that
 * cannot be detached must never resolve ESCALATE: it waits as execute() does.
 */
describe.each(['axios', 'node'] as const)(
  'executeDeferred (%s) against other servers',
  (httpClient) => {
    let server: ReferenceGateway;
    let gateway: ProvenanceGateway;

    const client = (options: { onGatewayError?: 'open' | 'closed' } = {}): ProvenanceGateway =>
      new ProvenanceGateway({
        gatewayUrl: server.url,
        apiKey: server.apiKey,
        agentId: AGENT,
        timeout: 5_000,
        httpClient,
        logger: SILENT,
        ...options,
      });

    afterEach(async () => {
      await gateway.close();
      await server.close();
    });

    it('202 but no detach route (404): waits at /wait and answers the human decision', async () => {
      server = await startReferenceGateway({ asyncEscalation: true, policy: () => 'ESCALATE' });
      gateway = client();
      const call = gateway.executeDeferred('payments.initiate', { amount: 800 });
      const id = await server.waitForEscalation();
      // The detach was refused before the approval: the call is still waited for.
      await waitUntil(() => server.requests.some((r) => r.path.endsWith('/detach')));
      expect(server.resolve(id, 'APPROVE', 'cfo')).toBe(true);
      const result = await call;
      expect([result.decision, result.escalationId, result.actorHumanId]).toEqual([
        Decision.ALLOW,
        id,
        'cfo',
      ]);
    });

    it('a reference server that holds the request: no id to detach, so it waits like execute()', async () => {
      server = await startReferenceGateway({ asyncEscalation: false, policy: () => 'ESCALATE' });
      gateway = client();
      const call = gateway.executeDeferred('payments.initiate', { amount: 800 });
      const id = await server.waitForEscalation();
      // It asked for a 202 even though asyncEscalation was not set to false here: a deferred call always does.
      expect(server.requests[0].headers.prefer).toMatch(/respond-async/);
      server.resolve(id, 'REJECT', 'cfo', 'no');
      await expect(call).rejects.toMatchObject({ name: 'EscalationRejectedError' });
    });

    it('a failed detach is a GatewayError that never fails open, and the hold is withdrawn', async () => {
      server = await startReferenceGateway({ asyncEscalation: true, policy: () => 'ESCALATE' });
      server.nextResponse({ match: (r) => r.path.endsWith('/detach'), status: 503, body: {} });
      gateway = client({ onGatewayError: 'open' });
      const error = await gateway
        .executeDeferred('payments.initiate', { amount: 800 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).failOpenEligible).toBe(false);
      await waitUntil(() => server.requests.some((r) => r.path.endsWith('/withdraw')));
    });

    it('without an escalation, an unreachable gateway is as execute(): open lets it through', async () => {
      server = await startReferenceGateway({ asyncEscalation: true });
      server.nextResponse({ status: 503, body: {} });
      server.nextResponse({ status: 503, body: {} });
      gateway = client({ onGatewayError: 'open' });
      const deferred = await gateway.executeDeferred('payments.initiate', { amount: 5 });
      const executed = await gateway.execute('payments.initiate', { amount: 5 });
      expect([deferred.decision, deferred.failedOpen]).toEqual([Decision.ALLOW, true]);
      expect([executed.decision, executed.failedOpen]).toEqual([
        deferred.decision,
        deferred.failedOpen,
      ]);
    });
  },
);

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
