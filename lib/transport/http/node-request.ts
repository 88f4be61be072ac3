import * as http from 'node:http';
import * as https from 'node:https';

/** Where requests to one gateway go: its base URL, taken apart once. */
export interface NodeTarget {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: string;
  /** The base URL's path without a trailing slash ('' for the root). */
  readonly basePath: string;
  /** `user:password` from the URL, sent as basic auth (as axios does), or undefined. */
  readonly auth: string | undefined;
}

export function nodeTarget(baseUrl: URL): NodeTarget {
  return {
    secure: baseUrl.protocol === 'https:',
    // A literal IPv6 address comes bracketed in a URL; node:http wants it bare.
    hostname: baseUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: baseUrl.port,
    basePath: baseUrl.pathname.replace(/\/+$/, ''),
    auth:
      baseUrl.username !== '' || baseUrl.password !== ''
        ? `${decodeURIComponent(baseUrl.username)}:${decodeURIComponent(baseUrl.password)}`
        : undefined,
  };
}

/** What `sendNodeRequest` reads of an abort signal (an AbortSignal or our RequestAbort). */
export interface AbortLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface NodeRequest {
  method: string;
  /** Path and query below the target's base path, starting with '/'. */
  path: string;
  headers: http.OutgoingHttpHeaders;
  body: string | undefined;
  agent: http.Agent;
  /** The answer's body is cut off past this many bytes (-1: no limit). */
  maxBodyBytes: number;
  signal: AbortLike | undefined;
}

/** An answer of any status, its body read whole as UTF-8 text. */
export interface NodeAnswer {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  text: string;
  request: http.ClientRequest;
}

/**
 * One request with `node:http`/`node:https`, nothing between. It fails the
 * way axios does, so that one mapping (`networkError`, http.errors.ts) reads
 * both: before the headers with the socket's own error (its `code` kept);
 * after them with an error carrying `code` and `response: { status }`
 * (ECONNRESET when the body broke off, ERR_BAD_RESPONSE past the size cap).
 * An abort destroys the request; the promise then fails with whatever the
 * socket reports, so a caller that aborts decides what the abort means.
 */
export function sendNodeRequest(target: NodeTarget, request: NodeRequest): Promise<NodeAnswer> {
  return new Promise<NodeAnswer>((resolve, reject) => {
    const signal = request.signal;
    let outgoing: http.ClientRequest | undefined;
    let settled = false;
    const onAbort = (): void => {
      outgoing?.destroy();
    };
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: unknown): void => {
      if (finish()) reject(error);
    };
    const options: http.RequestOptions = {
      method: request.method,
      hostname: target.hostname,
      port: target.port,
      path: target.basePath + request.path,
      headers: request.headers,
      agent: request.agent,
      auth: target.auth,
    };
    try {
      outgoing = (target.secure ? https : http).request(options, (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (request.maxBodyBytes > -1 && size > request.maxBodyBytes) {
            fail(
              bodyError(
                'ERR_BAD_RESPONSE',
                `maxContentLength size of ${request.maxBodyBytes} exceeded`,
                status,
              ),
            );
            outgoing!.destroy();
          } else chunks.push(chunk);
        });
        response.on('end', () => {
          if (!finish()) return;
          resolve({
            status,
            statusMessage: response.statusMessage ?? '',
            headers: response.headers,
            text:
              chunks.length === 1
                ? chunks[0].toString('utf8')
                : Buffer.concat(chunks).toString('utf8'),
            request: outgoing!,
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
    if (signal !== undefined) {
      if (signal.aborted) outgoing.destroy();
      else signal.addEventListener('abort', onAbort);
    }
    outgoing.end(request.body);
  });
}

/** The body broke off or overflowed after the headers: axios' shape, a response with its status. */
function bodyError(code: string, message: string, status: number): Error {
  return Object.assign(new Error(message), { code, response: { status } });
}
