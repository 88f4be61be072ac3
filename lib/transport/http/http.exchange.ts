import * as http from 'node:http';
import * as https from 'node:https';
import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import type { HttpService } from '@nestjs/axios';
import { Observable } from 'rxjs';
import { GatewayError } from '../../protocol/provenance.errors';
import { WireFormatError } from '../../protocol/wire';
import { type ExchangeContext, networkError, protocolError, timeoutError } from './http.errors';

/** A gateway answer is a few hundred bytes; a megabyte is a broken or hostile server. */
const MAX_BODY_BYTES = 1024 * 1024;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** An answer of any status, as text: what it means is the caller's to decide. */
export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export interface Exchanged {
  ctx: ExchangeContext;
  response: RawResponse;
}

export interface ExchangeOptions {
  data?: unknown;
  params?: Record<string, string | number>;
  headers?: Record<string, string>;
}

/**
 * The HTTP exchanges with one gateway: owns the API key header, the
 * keep-alive agents, the per-exchange timeout, and the mapping of network
 * failures and bodies to `GatewayError`. Every request of the HTTP transport
 * goes through `request()`.
 */
export class HttpExchange {
  // ES private, not TS private: invisible to util.inspect, JSON.stringify and
  // Object.keys, so a logger dumping the gateway service never prints the key
  // (nor credentials written into gatewayUrl).
  readonly #baseUrl: string;
  readonly #apiKey: string;
  private readonly http: HttpService;
  // Created here rather than on an axios instance so that an injected HttpService gets keep-alive too.
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private closed = false;

  constructor(
    /** Base URL with any credentials, for requests only. */
    baseUrl: string,
    /** Base URL without credentials, for messages. */
    readonly target: string,
    apiKey: string,
    /** Milliseconds one exchange may take unless the caller says otherwise. */
    readonly timeoutMs: number,
    httpService: HttpService,
  ) {
    this.#baseUrl = baseUrl;
    this.#apiKey = apiKey;
    this.http = httpService;
    // A free socket is dropped after 4 s, under the 5 s keep-alive of uvicorn and Node servers,
    // so that we never write to a socket the server is closing. Active (held) requests are not affected.
    // maxFreeSockets equals maxSockets: with fewer, a burst of answers closes the sockets beyond
    // the free limit and the next burst reconnects them (a TCP handshake per call under load).
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 4_000 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
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

  /**
   * One HTTP exchange. Resolves with any status (callers decide what a status
   * means); fails only with a GatewayError of kind unreachable, timeout or protocol.
   *
   * The injected instance's axios is called directly rather than through
   * `HttpService.get/post`: those make a CancelToken per request and cancel it on
   * every teardown, also after the answer arrived, which builds a CanceledError
   * (stack trace included) per call. Here the request is aborted only when the
   * subscriber leaves, or the timeout fires, before the answer. Timeout, mapping
   * and error handling live in this one subscription rather than in an operator
   * chain, because this runs once per gated call.
   */
  request(
    method: 'GET' | 'POST',
    path: string,
    options: ExchangeOptions,
    timeoutMs: number = this.timeoutMs,
  ): Observable<Exchanged> {
    return new Observable<Exchanged>((subscriber) => {
      const ctx = this.context(method, path);
      if (this.closed) {
        subscriber.error(
          new GatewayError(`the HTTP transport to ${this.target} is closed`, {
            url: ctx.url,
            kind: 'protocol',
          }),
        );
        return undefined;
      }
      const controller = new AbortController();
      const config: AxiosRequestConfig = {
        method,
        url: this.#baseUrl + path,
        params: options.params,
        headers: {
          'X-PROVENANCE-API-KEY': this.#apiKey,
          Accept: 'application/json',
          ...(options.data !== undefined ? { 'Content-Type': 'application/json' } : {}),
          ...options.headers,
        },
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        maxRedirects: 0,
        // Every status resolves: the mapping above is ours, not axios's.
        validateStatus: acceptEveryStatus,
        responseType: 'text',
        // Parse ourselves so that a non-JSON body is an error, not a string that looks like data.
        transformResponse: [unchanged],
        // We send the JSON text ourselves: axios deep-merges an object body and drops
        // every `__proto__`, `constructor` and `prototype` key on the way, so the
        // gateway would audit other parameters than the ones we normalised and hashed.
        transformRequest: [unchanged],
        maxContentLength: MAX_BODY_BYTES,
        // The request body is bounded by maxParametersBytes before anything is sent;
        // a second, lower cap here made larger configured limits fail as protocol errors.
        maxBodyLength: Infinity,
        // An injected instance may have its own timeout; ours is the timer below.
        timeout: 0,
        signal: controller.signal,
      };
      if (method === 'POST') config.data = JSON.stringify(options.data);
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        controller.abort();
        subscriber.error(timeoutError(ctx, timeoutMs));
      }, timeoutMs);
      this.http.axiosRef.request<string>(config).then(
        (response) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          subscriber.next({ ctx, response: toRaw(response) });
          subscriber.complete();
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          subscriber.error(error instanceof GatewayError ? error : networkError(ctx, error));
        },
      );
      return () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller.abort();
      };
    });
  }

  context(method: string, path: string): ExchangeContext {
    return { method, url: this.target + path, apiKey: this.#apiKey };
  }
}

function acceptEveryStatus(): boolean {
  return true;
}

function unchanged(data: unknown): unknown {
  return data;
}

function toRaw(response: AxiosResponse<unknown>): RawResponse {
  const contentType = response.headers['content-type'];
  return {
    status: response.status,
    contentType: typeof contentType === 'string' ? contentType : '',
    text: typeof response.data === 'string' ? response.data : '',
  };
}
