import { Observable } from 'rxjs';
import { GatewayError } from '../../protocol/provenance.errors';
import { WireFormatError } from '../../protocol/wire';
import {
  RequestAbort,
  type HttpClient,
  type OutgoingRequest,
  type RawResponse,
} from './http-client';
import { type ExchangeContext, networkError, protocolError, timeoutError } from './http.errors';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export type { RawResponse } from './http-client';

export interface Exchanged {
  ctx: ExchangeContext;
  response: RawResponse;
}

export interface ExchangeOptions {
  /** A value to send as JSON. */
  data?: unknown;
  /** The JSON text to send, when the caller wrote it already (the execute body). */
  body?: string;
  params?: Record<string, string | number>;
  headers?: Record<string, string>;
}

/** `headers` of ExchangeOptions asking for the async-escalation answer (docs/protocol.md). */
export const RESPOND_ASYNC: Readonly<Record<string, string>> = Object.freeze({
  Prefer: 'respond-async',
});

/**
 * The HTTP exchanges with one gateway: owns the API key header, the client
 * (axios or node:http, each with its keep-alive agents), the per-exchange
 * timeout, and the mapping of network failures and bodies to `GatewayError`.
 * Every request of the HTTP transport goes through `start()`.
 */
export class HttpExchange {
  // ES private, not TS private: invisible to util.inspect, JSON.stringify and
  // Object.keys, so a logger dumping the gateway service never prints the key.
  readonly #apiKey: string;
  /** The request headers, made once per kind of request rather than per call. */
  readonly #headers: {
    get: Record<string, string>;
    post: Record<string, string>;
    postAsync: Record<string, string>;
  };
  private readonly client: HttpClient;
  private closed = false;

  constructor(
    /** Base URL without credentials, for messages. */
    readonly target: string,
    apiKey: string,
    /** Milliseconds one exchange may take unless the caller says otherwise. */
    readonly timeoutMs: number,
    client: HttpClient,
  ) {
    this.#apiKey = apiKey;
    this.client = client;
    const get = { 'X-PROVENANCE-API-KEY': apiKey, Accept: 'application/json' };
    const post = { ...get, 'Content-Type': 'application/json' };
    this.#headers = { get, post, postAsync: { ...post, ...RESPOND_ASYNC } };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }

  /** Content type, JSON syntax, then shape: any failure is a `protocol` error, never a default. */
  parse<T>(ctx: ExchangeContext, response: RawResponse, read: (body: unknown) => T): T {
    if (!JSON_TYPE.test(response.contentType)) {
      throw protocolError(
        ctx,
        `the gateway answered ${response.status} with content type '${response.contentType || 'none'}', not JSON; is gatewayUrl a Provenance gateway?`,
        response.status,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      throw protocolError(
        ctx,
        `the gateway answered ${response.status} with a body that is not valid JSON`,
        response.status,
      );
    }
    try {
      return read(body);
    } catch (error) {
      if (error instanceof WireFormatError)
        throw protocolError(ctx, error.message, response.status);
      throw error;
    }
  }

  /** One exchange as an Observable (one value, then complete): see `start`. */
  request(
    method: 'GET' | 'POST',
    path: string,
    options: ExchangeOptions,
    timeoutMs: number = this.timeoutMs,
  ): Observable<Exchanged> {
    return new Observable<Exchanged>((subscriber) =>
      this.start(
        method,
        path,
        options,
        timeoutMs,
        (exchanged) => {
          subscriber.next(exchanged);
          subscriber.complete();
        },
        (error) => subscriber.error(error),
      ),
    );
  }

  /**
   * One HTTP exchange, with callbacks rather than an Observable (the execute
   * path runs this once per gated call). Answers with any status (callers
   * decide what a status means); fails only with a GatewayError of kind
   * unreachable, interrupted, timeout or protocol. Returns the cancel: it
   * aborts the request if it has not settled, and neither callback runs after it.
   */
  start(
    method: 'GET' | 'POST',
    path: string,
    options: ExchangeOptions,
    timeoutMs: number,
    onAnswer: (exchanged: Exchanged) => void,
    onError: (error: GatewayError) => void,
  ): () => void {
    const ctx = this.context(method, path);
    if (this.closed) {
      onError(
        new GatewayError(`the HTTP transport to ${this.target} is closed`, {
          url: ctx.url,
          kind: 'protocol',
        }),
      );
      return noop;
    }
    const body =
      method === 'POST'
        ? (options.body ?? (options.data === undefined ? undefined : JSON.stringify(options.data)))
        : undefined;
    const request: OutgoingRequest = {
      method,
      path,
      query: options.params,
      headers: this.headersFor(body !== undefined, options.headers),
      body,
    };
    const abort = new RequestAbort();
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      abort.abort();
      onError(timeoutError(ctx, timeoutMs));
    }, timeoutMs);
    this.client.send(request, abort).then(
      (response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        onAnswer({ ctx, response });
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        onError(error instanceof GatewayError ? error : networkError(ctx, error));
      },
    );
    return () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort.abort();
    };
  }

  context(method: string, path: string): ExchangeContext {
    return { method, url: this.target + path, apiKey: this.#apiKey };
  }

  private headersFor(
    hasBody: boolean,
    extra: Record<string, string> | undefined,
  ): Record<string, string> {
    if (!hasBody) {
      return extra === undefined ? this.#headers.get : { ...this.#headers.get, ...extra };
    }
    if (extra === undefined) return this.#headers.post;
    if (extra === RESPOND_ASYNC) return this.#headers.postAsync;
    return { ...this.#headers.post, ...extra };
  }
}

function noop(): void {}
