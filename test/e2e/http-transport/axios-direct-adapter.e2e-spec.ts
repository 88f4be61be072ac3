/*
 * The axios client sends its own requests through `directAdapter` when the
 * instance uses axios' http adapter: interceptors run either way, and a
 * request the direct path cannot send exactly as axios would goes through
 * axios' adapter. Which way a request went shows on the wire: axios' adapter
 * always asks for compression (Accept-Encoding), the direct path never does.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import axios, {
  AxiosError,
  AxiosHeaders,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { HttpService } from '@nestjs/axios';
import { AxiosHttpClient } from '../../../lib/transport/http/axios-http.client';
import {
  MAX_BODY_BYTES,
  RequestAbort,
  type OutgoingRequest,
} from '../../../lib/transport/http/http-client';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What each path answers; every request is recorded as it arrived. */
function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const path = (req.url ?? '').split('?')[0];
  const json = (status: number, value: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'x-answer': 'yes' });
    res.end(JSON.stringify(value));
  };
  switch (path) {
    case '/v1/echo':
      return json(200, { body });
    case '/v1/missing':
      return json(404, { detail: 'not found' });
    case '/v1/bom':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('\ufeff{"bom":true}');
    case '/v1/broken':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial":');
      return void setTimeout(() => res.socket?.destroy(), 20);
    case '/v1/big':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(`"${'x'.repeat(MAX_BODY_BYTES + 10)}"`);
    case '/v1/never':
      return; // never answers
    case '/v1/gzip': {
      const text = JSON.stringify({ zipped: true });
      if (/gzip/.test(String(req.headers['accept-encoding']))) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(gzipSync(text));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(text);
    }
    default:
      return json(200, { path });
  }
}

async function startServer(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const BODY = JSON.stringify({ action: 'payments.initiate', parameters: { amount: 250 } });

function post(path: string, body = BODY): OutgoingRequest {
  return {
    method: 'POST',
    path,
    query: undefined,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-API-Key': 'k' },
    body,
  };
}

function get(path: string, query?: Record<string, string | number>): OutgoingRequest {
  return { method: 'GET', path, query, headers: { Accept: 'application/json' }, body: undefined };
}

/** Sends through axios' own adapter: a timeout is a key the direct path leaves to axios. */
function throughAxios(instance: AxiosInstance): void {
  instance.interceptors.request.use((config) => {
    config.timeout = 60_000;
    return config;
  });
}

async function failure(promise: Promise<unknown>): Promise<AxiosError> {
  try {
    await promise;
  } catch (error) {
    return error as AxiosError;
  }
  throw new Error('expected the request to fail');
}

describe('AxiosHttpClient: the direct adapter', () => {
  const saved = { ...process.env };
  let server: Awaited<ReturnType<typeof startServer>>;
  const clients: AxiosHttpClient[] = [];

  beforeEach(async () => {
    for (const name of Object.keys(process.env)) {
      if (/proxy$/i.test(name)) delete process.env[name];
    }
    server = await startServer();
  });

  afterEach(async () => {
    process.env = { ...saved };
    for (const client of clients.splice(0)) client.close();
    await server.close();
  });

  const client = (instance: AxiosInstance = axios.create(), base = server.url): AxiosHttpClient => {
    const made = new AxiosHttpClient(new HttpService(instance), base);
    clients.push(made);
    return made;
  };

  const sentDirectly = (at = -1): boolean =>
    server.seen.at(at)!.headers['accept-encoding'] === undefined;

  describe('which way a request goes', () => {
    it('a default instance sends directly, with the headers and body axios would send', async () => {
      const answer = await client().send(post('/v1/echo'), new RequestAbort());
      const viaAxios = axios.create();
      throughAxios(viaAxios);
      await client(viaAxios).send(post('/v1/echo'), new RequestAbort());

      expect(answer).toEqual({
        status: 200,
        contentType: 'application/json',
        text: JSON.stringify({ body: BODY }),
      });
      const [direct, fallback] = server.seen;
      expect(direct.headers['accept-encoding']).toBeUndefined();
      expect(fallback.headers['accept-encoding']).toMatch(/gzip/);
      expect(direct.body).toBe(BODY);
      expect(fallback.body).toBe(BODY);
      for (const name of ['user-agent', 'content-type', 'content-length', 'accept', 'x-api-key']) {
        expect([name, direct.headers[name]]).toEqual([name, fallback.headers[name]]);
      }
      expect(direct.headers['user-agent']).toBe(`axios/${axios.VERSION}`);
      expect(direct.headers['content-length']).toBe(String(Buffer.byteLength(BODY)));
    });

    it('a body with characters beyond ASCII is sent with its byte length', async () => {
      const body = JSON.stringify({ payee: 'Zoë Ångström – 東京' });
      const answer = await client().send(post('/v1/echo', body), new RequestAbort());

      expect(sentDirectly()).toBe(true);
      expect(server.seen[0].headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(JSON.parse(answer.text)).toEqual({ body });
    });

    it("a request interceptor's header goes out on the direct path", async () => {
      const instance = axios.create();
      instance.interceptors.request.use((config) => {
        config.headers.set('X-Trace', 'trace-1');
        return config;
      });
      await client(instance).send(post('/v1/echo'), new RequestAbort());

      expect(sentDirectly()).toBe(true);
      expect(server.seen[0].headers['x-trace']).toBe('trace-1');
    });

    it.each([
      ['a timeout', { timeout: 60_000 }],
      ['redirects', { maxRedirects: 3 }],
      ['basic auth', { auth: { username: 'u', password: 'p' } }],
      ['a binary response type', { responseType: 'arraybuffer' }],
      ['a socket option', { family: 4 }],
    ] as const)('%s set by an interceptor: axios sends', async (_what, change) => {
      const instance = axios.create();
      instance.interceptors.request.use((config) => Object.assign(config, change));
      const answer = await client(instance).send(post('/v1/echo'), new RequestAbort());

      expect(sentDirectly()).toBe(false);
      expect(answer.status).toBe(200);
    });

    it('basic auth from an interceptor arrives (through axios)', async () => {
      const instance = axios.create();
      instance.interceptors.request.use((config) =>
        Object.assign(config, { auth: { username: 'u', password: 'p' } }),
      );
      await client(instance).send(post('/v1/echo'), new RequestAbort());

      expect(server.seen[0].headers.authorization).toBe(
        `Basic ${Buffer.from('u:p').toString('base64')}`,
      );
    });

    it('a query (params) goes through axios and arrives', async () => {
      await client().send(get('/v1/audit', { limit: 5, after: 'a b' }), new RequestAbort());

      expect(sentDirectly()).toBe(false);
      expect(server.seen[0].url).toBe('/v1/audit?limit=5&after=a+b');
    });

    it('an Accept-Encoding from an interceptor goes through axios, which decompresses', async () => {
      const instance = axios.create();
      instance.interceptors.request.use((config) => {
        config.headers.set('Accept-Encoding', 'gzip');
        return config;
      });
      const answer = await client(instance).send(get('/v1/gzip'), new RequestAbort());

      expect(server.seen[0].headers['accept-encoding']).toBe('gzip');
      expect(JSON.parse(answer.text)).toEqual({ zipped: true });
    });

    it('a URL an interceptor changed to another server: axios sends it there', async () => {
      const other = await startServer();
      try {
        const instance = axios.create();
        instance.interceptors.request.use((config) => {
          config.url = other.url + '/v1/elsewhere';
          return config;
        });
        const answer = await client(instance).send(get('/v1/echo'), new RequestAbort());

        expect(server.seen).toEqual([]);
        expect(other.seen.map((seen) => seen.url)).toEqual(['/v1/elsewhere']);
        expect(other.seen[0].headers['accept-encoding']).toMatch(/gzip/);
        expect(JSON.parse(answer.text)).toEqual({ path: '/v1/elsewhere' });
      } finally {
        await other.close();
      }
    });

    it.each([
      ['a dot segment', '/v1/x/../health', '/v1/health'],
      ['an encoded dot segment', '/v1/x/%2E%2E/health', '/v1/health'],
      ['a query in the URL', '/v1/health?x=1', '/v1/health?x=1'],
      ['a space', '/v1/a b', '/v1/a%20b'],
    ])('a path with %s is sent as axios sends it', async (_what, path, arrived) => {
      await client().send(get(path), new RequestAbort());

      expect(sentDirectly()).toBe(false);
      expect(server.seen[0].url).toBe(arrived);
    });

    it('a base path is kept on the direct path', async () => {
      await client(axios.create(), server.url + '/gateway/base').send(
        get('/v1/health'),
        new RequestAbort(),
      );

      expect(sentDirectly()).toBe(true);
      expect(server.seen[0].url).toBe('/gateway/base/v1/health');
    });

    it('credentials in the base URL replace the Authorization header, as axios does', async () => {
      const base = server.url.replace('http://', 'http://agent:s%40cret@');
      const request = post('/v1/echo');
      request.headers.Authorization = 'Bearer not-sent';
      await client(axios.create(), base).send(request, new RequestAbort());
      const viaAxios = axios.create();
      throughAxios(viaAxios);
      await client(viaAxios, base).send(request, new RequestAbort());

      const expected = `Basic ${Buffer.from('agent:s@cret').toString('base64')}`;
      expect(
        server.seen.map((seen) => [
          seen.headers['accept-encoding'] === undefined,
          seen.headers.authorization,
        ]),
      ).toEqual([
        [true, expected],
        [false, expected],
      ]);
    });

    it('an instance with another adapter keeps it', async () => {
      const used: string[] = [];
      const instance = axios.create();
      const httpAdapter = axios.getAdapter('http');
      instance.defaults.adapter = (config) => {
        used.push(config.url ?? '');
        return httpAdapter(config);
      };
      await client(instance).send(get('/v1/health'), new RequestAbort());

      expect(used).toEqual([`${server.url}/v1/health`]);
      expect(sentDirectly()).toBe(false);
    });

    it('an adapter axios cannot use here fails the request as axios reports it, not the send', async () => {
      const instance = axios.create({ adapter: 'xhr' });
      const made = client(instance);
      let pending: Promise<unknown> | undefined;
      expect(() => {
        pending = made.send(get('/v1/health'), new RequestAbort());
      }).not.toThrow();
      const error = await failure(pending!);

      expect(error).toBeInstanceOf(AxiosError);
      expect(error.code).toBe('ERR_NOT_SUPPORT');
      expect(server.seen).toEqual([]);
    });

    it('an adapter set on the instance after the client was made is honoured', async () => {
      const instance = axios.create();
      const made = client(instance);
      await made.send(get('/v1/health'), new RequestAbort());
      const used: string[] = [];
      const httpAdapter = axios.getAdapter('http');
      instance.defaults.adapter = (config) => {
        used.push(config.url ?? '');
        return httpAdapter(config);
      };
      await made.send(get('/v1/health'), new RequestAbort());

      expect(server.seen.map((seen) => seen.headers['accept-encoding'] === undefined)).toEqual([
        true,
        false,
      ]);
      expect(used).toHaveLength(1);
    });

    it('a proxy in the environment: axios sends (through the proxy)', async () => {
      const proxy = await startServer();
      try {
        process.env.HTTP_PROXY = proxy.url;
        await client(axios.create(), 'http://gateway.invalid:4587').send(
          get('/v1/health'),
          new RequestAbort(),
        );

        expect(proxy.seen.map((seen) => seen.url)).toEqual([
          'http://gateway.invalid:4587/v1/health',
        ]);
        expect(proxy.seen[0].headers['accept-encoding']).toMatch(/gzip/);
      } finally {
        await proxy.close();
      }
    });
  });

  // Each case runs both ways: what interceptors and callers see does not depend on the way.
  describe.each([
    ['directly', false],
    ['through axios', true],
  ] as const)('what interceptors see, sent %s', (_way, viaAxios) => {
    const instance = (): AxiosInstance => {
      const made = axios.create();
      if (viaAxios) throughAxios(made);
      return made;
    };

    afterEach(() => {
      const ways = server.seen.map((seen) => seen.headers['accept-encoding'] === undefined);
      expect(ways).toEqual(ways.map(() => !viaAxios));
    });

    it('the response: status, text, headers, config and request', async () => {
      const made = instance();
      let seen: AxiosResponse | undefined;
      made.interceptors.response.use((response) => {
        seen = response;
        return response;
      });
      await client(made).send(post('/v1/echo'), new RequestAbort());

      expect(seen).toBeDefined();
      expect(seen!.status).toBe(200);
      expect(seen!.statusText).toBe('OK');
      expect(seen!.data).toBe(JSON.stringify({ body: BODY }));
      expect(seen!.headers).toBeInstanceOf(AxiosHeaders);
      expect(seen!.headers['x-answer']).toBe('yes');
      expect((seen!.headers as AxiosHeaders).get('Content-Type')).toBe('application/json');
      expect(seen!.config.url).toBe(`${server.url}/v1/echo`);
      expect(seen!.request).toBeInstanceOf(http.ClientRequest);
    });

    it('a byte-order mark is stripped', async () => {
      const answer = await client(instance()).send(get('/v1/bom'), new RequestAbort());

      expect(answer.text).toBe('{"bom":true}');
    });

    it('every status resolves by default; an interceptor validateStatus refuses as axios does', async () => {
      const made = instance();
      const ok = await client(made).send(get('/v1/missing'), new RequestAbort());
      made.interceptors.request.use((config: InternalAxiosRequestConfig) => {
        config.validateStatus = (status) => status < 400;
        return config;
      });
      const refused = await failure(client(made).send(get('/v1/missing'), new RequestAbort()));

      expect(ok.status).toBe(404);
      expect(refused).toBeInstanceOf(AxiosError);
      expect(refused.code).toBe('ERR_BAD_REQUEST');
      expect(refused.message).toBe('Request failed with status code 404');
      expect(refused.response?.status).toBe(404);
      expect(refused.response?.data).toBe(JSON.stringify({ detail: 'not found' }));
    });

    it('a refused connection fails with the socket code', async () => {
      const closed = await startServer();
      const url = closed.url;
      await closed.close();
      const error = await failure(
        client(instance(), url).send(get('/v1/health'), new RequestAbort()),
      );

      expect(error).toBeInstanceOf(AxiosError);
      expect(error.code).toBe('ECONNREFUSED');
      expect(error.response).toBeUndefined();
    });

    it('an answer that breaks off after the headers fails as ERR_BAD_RESPONSE', async () => {
      const error = await failure(client(instance()).send(get('/v1/broken'), new RequestAbort()));

      expect(error).toBeInstanceOf(AxiosError);
      expect(error.code).toBe('ERR_BAD_RESPONSE');
    });

    it('an answer over the size cap fails as ERR_BAD_RESPONSE', async () => {
      const error = await failure(client(instance()).send(get('/v1/big'), new RequestAbort()));

      expect(error).toBeInstanceOf(AxiosError);
      expect(error.code).toBe('ERR_BAD_RESPONSE');
      expect(error.message).toBe(`maxContentLength size of ${MAX_BODY_BYTES} exceeded`);
    });

    it('an abort fails as a CanceledError', async () => {
      const abort = new RequestAbort();
      const pending = failure(client(instance()).send(get('/v1/never'), abort));
      while (server.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      abort.abort();
      const error = await pending;

      expect(axios.isCancel(error)).toBe(true);
      expect(error.code).toBe('ERR_CANCELED');
    });

    it('a body over an interceptor maxBodyLength is refused before sending', async () => {
      const made = instance();
      made.interceptors.request.use((config) => {
        config.maxBodyLength = 10;
        return config;
      });
      const error = await failure(client(made).send(post('/v1/echo'), new RequestAbort()));

      expect(error.code).toBe('ERR_BAD_REQUEST');
      expect(error.message).toBe('Request body larger than maxBodyLength limit');
      expect(server.seen).toEqual([]);
    });
  });
});
