import * as http from 'node:http';
import * as https from 'node:https';
import {
  keepAliveAgents,
  MAX_BODY_BYTES,
  type HttpClient,
  type OutgoingRequest,
  type RawResponse,
  type RequestAbort,
} from './http-client';

/**
 * Sends with `node:http`/`node:https` directly (the `httpClient: 'node'`
 * option): the same requests, agents, body cap and failures as the axios
 * client, without axios' per-request config merge, header objects and proxy
 * lookup. No HttpService, so no interceptors and no proxy.
 *
 * Its failures are shaped like axios' so that one mapping (`networkError`)
 * serves both: the socket's own error (with its `code`) before the headers,
 * and an error carrying `response: { status }` once they arrived.
 */
export class NodeHttpClient implements HttpClient {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly secure: boolean;
  private readonly hostname: string;
  private readonly port: string;
  private readonly basePath: string;
  private readonly auth: string | undefined;

  /** `baseUrl`: the gateway's base URL, credentials included (sent as basic auth, as axios does). */
  constructor(baseUrl: URL) {
    this.agents = keepAliveAgents();
    this.secure = baseUrl.protocol === 'https:';
    // A literal IPv6 address comes bracketed in a URL; node:http wants it bare.
    this.hostname = baseUrl.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = baseUrl.port;
    this.basePath = baseUrl.pathname.replace(/\/+$/, '');
    this.auth =
      baseUrl.username !== '' || baseUrl.password !== ''
        ? `${decodeURIComponent(baseUrl.username)}:${decodeURIComponent(baseUrl.password)}`
        : undefined;
  }

  send(request: OutgoingRequest, abort: RequestAbort): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const options: http.RequestOptions = {
        method: request.method,
        hostname: this.hostname,
        port: this.port,
        path: this.basePath + request.path + queryOf(request.query),
        headers: request.headers,
        agent: this.secure ? this.agents.https : this.agents.http,
        auth: this.auth,
      };
      let outgoing: http.ClientRequest;
      try {
        outgoing = (this.secure ? https : http).request(options, (response) => {
          const status = response.statusCode ?? 0;
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              fail(
                bodyError(
                  'ERR_BAD_RESPONSE',
                  `maxContentLength size of ${MAX_BODY_BYTES} exceeded`,
                  status,
                ),
              );
              outgoing.destroy();
            } else chunks.push(chunk);
          });
          response.on('end', () => {
            if (settled) return;
            settled = true;
            const type = response.headers['content-type'];
            resolve({
              status,
              contentType: typeof type === 'string' ? type : '',
              text:
                chunks.length === 1
                  ? chunks[0].toString('utf8')
                  : Buffer.concat(chunks).toString('utf8'),
            });
          });
          response.on('error', (error: NodeJS.ErrnoException) =>
            fail(bodyError(error.code ?? 'ECONNRESET', error.message, status)),
          );
          response.on('close', () => {
            if (!response.complete) fail(bodyError('ECONNRESET', 'aborted', status));
          });
        });
      } catch (error) {
        fail(error);
        return;
      }
      outgoing.on('error', fail);
      if (abort.aborted) outgoing.destroy();
      else abort.addEventListener('abort', () => outgoing.destroy());
      outgoing.end(request.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/** The body broke off or overflowed after the headers: axios' shape, a response with its status. */
function bodyError(code: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { code, response: { status } });
}

function queryOf(query: Record<string, string | number> | undefined): string {
  if (query === undefined) return '';
  const text = new URLSearchParams(
    Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
  return text === '' ? '' : `?${text}`;
}
