import * as http from 'node:http';
import * as https from 'node:https';

/** A gateway answer is a few hundred bytes; a megabyte is a broken or hostile server. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Which library sends the HTTP requests (the `httpClient` option). */
export type HttpClientKind = 'axios' | 'node';

/** An answer of any status, as text: what it means is the caller's to decide. */
export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** One request, relative to the gateway's base URL; the body is JSON text already. */
export interface OutgoingRequest {
  method: 'GET' | 'POST';
  path: string;
  query: Record<string, string | number> | undefined;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * Sends requests to one gateway. Resolves with any status; rejects with the
 * library's own error (mapped by `networkError`, http.errors.ts): a Node error
 * with its `code`, and `response: { status }` when the headers had arrived.
 * Never follows redirects and never reads more than MAX_BODY_BYTES.
 */
export interface HttpClient {
  send(request: OutgoingRequest, abort: RequestAbort): Promise<RawResponse>;
  /** Drops every socket (idle and in use). */
  close(): void;
}

/**
 * The cancellation of one request: an abort signal as axios reads it
 * (`GenericAbortSignal`: `aborted`, add/removeEventListener), without the
 * EventTarget and the AbortSignal an AbortController builds on every call.
 */
export class RequestAbort {
  aborted = false;
  onabort: (() => void) | null = null;
  private listeners: Array<() => void> | null = null;

  addEventListener(_type: 'abort', listener: () => void): void {
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners!.splice(at, 1);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
    this.onabort?.();
  }
}

/** The keep-alive agents of one transport, whichever client sends. */
export function keepAliveAgents(): { http: http.Agent; https: https.Agent } {
  // A free socket is dropped after 4 s, under the 5 s keep-alive of uvicorn and Node servers,
  // so that we never write to a socket the server is closing. Active (held) requests are not affected.
  // maxFreeSockets equals maxSockets: with fewer, a burst of answers closes the sockets beyond
  // the free limit and the next burst reconnects them (a TCP handshake per call under load).
  const options = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 4_000 };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}
