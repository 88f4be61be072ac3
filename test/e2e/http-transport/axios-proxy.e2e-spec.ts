/*
 * The axios client passes `proxy: false` only when neither the axios instance
 * nor the environment names a proxy (read when the transport is made): a
 * proxy the user set up either way is still used.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import { HttpService } from '@nestjs/axios';
import { AxiosHttpClient } from '../../../lib/transport/http/axios-http.client';
import { RequestAbort, type OutgoingRequest } from '../../../lib/transport/http/http-client';

/** Answers every request with JSON naming the URL it was asked for (a proxy sees absolute URLs). */
async function recordingServer(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const HEALTH: OutgoingRequest = {
  method: 'GET',
  path: '/v1/health',
  query: undefined,
  headers: { Accept: 'application/json' },
  body: undefined,
};

describe('AxiosHttpClient and proxies', () => {
  const saved = { ...process.env };
  let proxy: Awaited<ReturnType<typeof recordingServer>>;
  let direct: Awaited<ReturnType<typeof recordingServer>>;
  const clients: AxiosHttpClient[] = [];

  beforeEach(async () => {
    for (const name of Object.keys(process.env)) {
      if (/proxy$/i.test(name)) delete process.env[name];
    }
    proxy = await recordingServer();
    direct = await recordingServer();
  });

  afterEach(async () => {
    process.env = { ...saved };
    for (const client of clients.splice(0)) client.close();
    await proxy.close();
    await direct.close();
  });

  const client = (instance = axios.create(), base = direct.url): AxiosHttpClient => {
    const made = new AxiosHttpClient(new HttpService(instance), base);
    clients.push(made);
    return made;
  };

  it('HTTP_PROXY in the environment: the request goes through the proxy', async () => {
    process.env.HTTP_PROXY = proxy.url;
    const answer = await client(axios.create(), 'http://gateway.invalid:4587').send(
      HEALTH,
      new RequestAbort(),
    );

    expect(answer.status).toBe(200);
    expect(proxy.seen).toEqual(['http://gateway.invalid:4587/v1/health']);
  });

  it("a proxy on the axios instance's defaults is used", async () => {
    const { port } = new URL(proxy.url);
    const instance = axios.create({
      proxy: { protocol: 'http', host: '127.0.0.1', port: Number(port) },
    });
    const answer = await client(instance, 'http://gateway.invalid:4587').send(
      HEALTH,
      new RequestAbort(),
    );

    expect(answer.status).toBe(200);
    expect(proxy.seen).toEqual(['http://gateway.invalid:4587/v1/health']);
  });

  it('no proxy anywhere: the request goes straight to the gateway', async () => {
    const answer = await client().send(HEALTH, new RequestAbort());

    expect(JSON.parse(answer.text)).toEqual({ url: '/v1/health' });
    expect(direct.seen).toEqual(['/v1/health']);
    expect(proxy.seen).toEqual([]);
  });
});
