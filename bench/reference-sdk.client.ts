import * as http from 'node:http';
import axios from 'axios';
import type { ServerReady } from './http-gateway.server';

/**
 * A stand-in for the reference project's own TypeScript SDK, which is not
 * on this machine: what that SDK is, a thin axios client. One instance with
 * its defaults, a keep-alive agent, the API key as a default header; each
 * call posts the request object (axios writes the JSON) and reads
 * `response.data`. No timeout handling, answer validation or sessions of
 * its own: the "HTTP transport vs the reference TS SDK" row.
 */
export function referenceSdkClient(
  ready: ServerReady,
  request: Record<string, unknown>,
): { post(): Promise<unknown>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const client = axios.create({
    baseURL: ready.url,
    headers: { 'X-PROVENANCE-API-KEY': ready.apiKey },
    httpAgent: agent,
  });
  const post = async () => {
    const response = await client.post<{ decision?: string }>('/v1/gateway/execute', request);
    if (response.data.decision !== 'ALLOW') {
      throw new Error(`reference SDK stand-in got ${JSON.stringify(response.data)}`);
    }
    return response.data;
  };
  return { post, close: () => agent.destroy() };
}
