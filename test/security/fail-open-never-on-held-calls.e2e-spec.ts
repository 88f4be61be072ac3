import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { GatewayError, ProvenanceGateway } from '../../lib';
import { generateApiKey } from '../../lib/server/api-keys';
import { createGatewayServer } from '../../lib/server/factory';
import { GatewayServerTenants } from '../../lib/server/tenants';
import { TEST_POLICY } from '../e2e/server/server.helpers';

/**
 * Finding: with `onGatewayError: 'open'` and a proxy that answers 504 while
 * the gateway still holds the call for a human, the client treated the 504
 * as an outage and ran the body while the escalation sat pending. A real
 * proxy on loopback in front of our real server: the proxy gives up with
 * 502 or 504 while the held request is still open upstream.
 */
async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function proxyTo(upstream: string, status: number, afterMs: number): http.Server {
  return http.createServer((req, res) => {
    const forward = http.request(`${upstream}${req.url}`, {
      method: req.method,
      headers: req.headers,
    });
    forward.on('error', () => undefined);
    req.pipe(forward);
    // The upstream holds the call; the proxy's own timeout fires first.
    const timer = setTimeout(() => {
      res.writeHead(status, { 'content-type': 'text/html' });
      res.end(`<html><body>${status} Gateway Time-out</body></html>`);
    }, afterMs);
    forward.on('response', (upstreamRes) => {
      clearTimeout(timer);
      // Answered late (the proxy already gave up): drop it, as a proxy does.
      if (res.headersSent) {
        upstreamRes.resume();
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
  });
}

describe.each([502, 504])('a proxy answering %i while the gateway holds the call', (status) => {
  let app: INestApplication;
  let proxy: http.Server;
  let gateway: ProvenanceGateway;
  const key = generateApiKey('test');

  beforeEach(async () => {
    app = await createGatewayServer(
      {
        keys: [{ key, tenantId: 'tenant-a', policy: TEST_POLICY }],
        audit: { store: 'memory' },
        escalationTimeoutMs: 10_000,
      },
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    const upstream = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    proxy = proxyTo(upstream, status, 300);
    const url = await listen(proxy);
    gateway = new ProvenanceGateway({
      gatewayUrl: url,
      apiKey: key,
      agentId: 'agent-1',
      onGatewayError: 'open',
      // Held like the reference server: no 202, the request stays open.
      asyncEscalation: false,
      timeout: 5_000,
    });
  });
  afterEach(async () => {
    await gateway.close();
    await new Promise<void>((done) => proxy.close(() => done()));
    proxy.closeAllConnections();
    await app.close();
  });

  it('never fails open: the body does not run and the escalation is still pending for a human', async () => {
    let ran = 0;
    const pay = gateway.guard('payments.initiate')(async (amount: number) => {
      ran++;
      return amount;
    });
    const error = await pay(500).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ kind: 'status', status });
    expect((error as GatewayError).failOpenEligible).toBe(false);
    expect(ran).toBe(0);
    const tenant = app.get(GatewayServerTenants).get('tenant-a');
    expect(tenant?.gateway.pending().map((record) => record.action)).toEqual(['payments.initiate']);
  });
});
