import type * as http from 'node:http';
import type * as https from 'node:https';
import {
  keepAliveAgents,
  MAX_BODY_BYTES,
  type HttpClient,
  type OutgoingRequest,
  type RawResponse,
  type RequestAbort,
} from './http-client';
import { nodeTarget, sendNodeRequest, type NodeTarget } from './node-request';

/**
 * Sends with `node:http`/`node:https` directly (the `httpClient: 'node'`
 * option): the same requests, agents, body cap and failures as the axios
 * client, without axios at all. No HttpService, so no interceptors and no
 * proxy.
 */
export class NodeHttpClient implements HttpClient {
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly target: NodeTarget;

  /** `baseUrl`: the gateway's base URL, credentials included (sent as basic auth, as axios does). */
  constructor(baseUrl: URL) {
    this.agents = keepAliveAgents();
    this.target = nodeTarget(baseUrl);
  }

  send(request: OutgoingRequest, abort: RequestAbort): Promise<RawResponse> {
    return sendNodeRequest(this.target, {
      method: request.method,
      path: request.path + queryOf(request.query),
      headers: request.headers,
      body: request.body,
      agent: this.target.secure ? this.agents.https : this.agents.http,
      maxBodyBytes: MAX_BODY_BYTES,
      signal: abort,
    }).then((answer) => {
      const type = answer.headers['content-type'];
      return {
        status: answer.status,
        contentType: typeof type === 'string' ? type : '',
        text: answer.text,
      };
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function queryOf(query: Record<string, string | number> | undefined): string {
  if (query === undefined) return '';
  const text = new URLSearchParams(
    Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
  return text === '' ? '' : `?${text}`;
}
