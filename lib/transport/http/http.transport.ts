import * as http from 'node:http';
import * as https from 'node:https';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { HttpService } from '@nestjs/axios';
import {
  Observable,
  catchError,
  concat,
  defer,
  lastValueFrom,
  map,
  of,
  retry,
  switchMap,
  throwError,
  timer,
} from 'rxjs';
import { Messages } from '../../protocol/provenance.messages';
import {
  EscalationNotFoundError,
  GatewayError,
  ProvenanceConfigError,
} from '../../protocol/provenance.errors';
import { GatewayTransport } from '../gateway-transport';
import { type EscalationRecord, type EscalationTicket, type GatewayEvent, type GatewayRequest, type GatewayResponse, type ReviewInput, type ReviewOutcome, type ReviewVerdict } from '../../protocol/gateway.types';
import {
  type ExchangeContext,
  escalationWaitError,
  networkError,
  protocolError,
  statusError,
  timeoutError,
} from './http.errors';
import {
  WireFormatError,
  escalationOutcomeOf,
  fromWireDecideResponse,
  fromWireEscalationAccepted,
  fromWireEscalationList,
  fromWireResponse,
  toWireDecideRequest,
  toWireRequest,
} from '../../protocol/wire';

export interface HttpTransportOptions {
  /** Base URL of the gateway, e.g. `http://localhost:4587`. http or https only. */
  gatewayUrl: string;
  apiKey: string;
  /**
   * Milliseconds one HTTP exchange may take. Against a reference server an
   * escalated call is held up to 60 s, so keep it above that (the SDK uses 90 s).
   */
  timeout: number;
  /** A Nest-injected HttpService; without one the transport makes its own. */
  httpService?: HttpService;
  /** Send `Prefer: respond-async` (DESIGN.md "Async escalation extension"). Default true. */
  asyncEscalation?: boolean;
  /**
   * Milliseconds to wait in total for a human decision after a 202, across all
   * long polls. Default 15 minutes: a server that answers 204 forever must not hold a call forever.
   */
  maxEscalationWait?: number;
}

/** One long poll asks the server to hold at most this long (below common proxy idle limits). */
const MAX_POLL_MS = 25_000;
const DEFAULT_MAX_ESCALATION_WAIT = 15 * 60_000;
/** A gateway answer is a few hundred bytes; a megabyte is a broken or hostile server. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Long polls are safe to repeat: a lost poll is retried this many times before the wait fails. */
const POLL_RETRIES = 3;
const POLL_RETRY_DELAY_MS = 500;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Talks to a remote Provenance gateway over PROTOCOL.md. Every exchange goes
 * through `exchange()`, which owns the API key header, keep-alive agents, the
 * timeout and the mapping of failures to GatewayError.
 */
export class HttpTransport extends GatewayTransport {
  readonly kind = 'http' as const;
  readonly target: string;

  // ES private, not TS private: invisible to util.inspect, JSON.stringify and
  // Object.keys, so a logger dumping the gateway service never prints the key
  // (nor credentials written into gatewayUrl).
  readonly #baseUrl: string;
  readonly #apiKey: string;
  private readonly timeoutMs: number;
  private readonly asyncEscalation: boolean;
  private readonly maxEscalationWait: number;
  private readonly http: HttpService;
  // Created here rather than on an axios instance so that an injected HttpService gets keep-alive too.
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private closed = false;

  constructor(options: HttpTransportOptions) {
    super();
    const url = parseGatewayUrl(options.gatewayUrl);
    if (typeof options.apiKey !== 'string' || options.apiKey === '') {
      throw new ProvenanceConfigError('apiKey', Messages.missingApiKey(displayUrl(url)));
    }
    if (
      typeof options.timeout !== 'number' ||
      !Number.isFinite(options.timeout) ||
      options.timeout <= 0
    ) {
      throw new ProvenanceConfigError(
        'timeout',
        Messages.badOption('timeout', 'a positive number of milliseconds', options.timeout),
      );
    }
    const maxWait = options.maxEscalationWait ?? DEFAULT_MAX_ESCALATION_WAIT;
    if (!Number.isFinite(maxWait) || maxWait <= 0) {
      throw new ProvenanceConfigError(
        'maxEscalationWait',
        Messages.badOption('maxEscalationWait', 'a positive number of milliseconds', maxWait),
      );
    }
    this.#baseUrl = displayUrl(url, true);
    this.target = displayUrl(url);
    this.#apiKey = options.apiKey;
    this.timeoutMs = options.timeout;
    this.asyncEscalation = options.asyncEscalation ?? true;
    this.maxEscalationWait = maxWait;
    this.http = options.httpService ?? new HttpService(axios.create());
    // A free socket is dropped after 4 s, under the 5 s keep-alive of uvicorn and Node servers,
    // so that we never write to a socket the server is closing. Active (held) requests are not affected.
    // maxFreeSockets equals maxSockets: with fewer, a burst of answers closes the sockets beyond
    // the free limit and the next burst reconnects them (a TCP handshake per call under load).
    const agentOptions = { keepAlive: true, maxSockets: 64, maxFreeSockets: 64, timeout: 4_000 };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
  }

  execute(request: GatewayRequest): Observable<GatewayEvent> {
    return defer(() => {
      const headers: Record<string, string> = this.asyncEscalation
        ? { Prefer: 'respond-async' }
        : {};
      return this.exchange('POST', '/v1/gateway/execute', {
        data: toWireRequest(request),
        headers,
      }).pipe(
        switchMap(({ ctx, response }) => {
          if (response.status === 200) return of(decided(this.parseExecute(ctx, response)));
          if (response.status === 202 && this.asyncEscalation) {
            const ticket = this.parseAccepted(ctx, response, request);
            return concat(
              of<GatewayEvent>({ type: 'escalated', escalation: ticket }),
              this.waitFor(ticket.escalationId),
            );
          }
          if (response.status >= 200 && response.status < 300) {
            throw protocolError(
              ctx,
              `the gateway answered ${response.status}, not 200 with a decision`,
              response.status,
            );
          }
          throw statusError(ctx, response.status, response.text);
        }),
      );
    });
  }

  async pending(options: { tenantId?: string } = {}): Promise<EscalationRecord[]> {
    const params: Record<string, string | number> = { offset: 0, limit: 100 };
    if (options.tenantId !== undefined) params.tenant_id = options.tenantId;
    const { ctx, response } = await lastValueFrom(
      this.exchange('GET', '/v1/escalations/pending', { params }),
    );
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.parse(ctx, response, fromWireEscalationList);
  }

  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    const path = `/v1/escalations/${encodeURIComponent(escalationId)}/decide`;
    const data = toWireDecideRequest(verdict, input.approverId, input.reason);
    const { ctx, response } = await lastValueFrom(this.exchange('POST', path, { data }));
    if (response.status === 404) throw new EscalationNotFoundError(escalationId);
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.parse(ctx, response, (body) =>
      fromWireDecideResponse(body, { escalationId, verdict }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * Long-polls `/wait` until the server answers 200 with the final decision.
   * Unsubscribing stops the current poll and schedules no other.
   */
  private waitFor(escalationId: string): Observable<GatewayEvent> {
    const deadline = Date.now() + this.maxEscalationWait;
    const path = `/v1/escalations/${encodeURIComponent(escalationId)}/wait`;
    const poll = (): Observable<GatewayEvent> =>
      defer(() => {
        const remaining = deadline - Date.now();
        const ctx = this.context('GET', path);
        if (remaining <= 0) {
          return throwError(
            () =>
              new GatewayError(
                `no human decision on escalation ${escalationId} within ${this.maxEscalationWait} ms (maxEscalationWait)`,
                { url: ctx.url, kind: 'timeout' },
              ),
          );
        }
        const holdMs = Math.min(MAX_POLL_MS, remaining);
        return this.exchange(
          'GET',
          path,
          { params: { timeout_ms: holdMs } },
          this.timeoutMs + holdMs,
        ).pipe(
          // A 5xx answer to a poll is a lost poll too: raise it here so that it is retried.
          map((exchanged) => {
            const { status, text } = exchanged.response;
            if (status >= 500) throw statusError(exchanged.ctx, status, text);
            return exchanged;
          }),
          retry({
            count: POLL_RETRIES,
            // A poll is a GET that decides nothing, so repeating it is safe even when
            // the connection broke after it was sent (interrupted), unlike an execute.
            delay: (error: unknown) =>
              error instanceof GatewayError &&
              (error.failOpenEligible || error.kind === 'interrupted')
                ? timer(POLL_RETRY_DELAY_MS)
                : throwError(() => error),
          }),
          switchMap(({ ctx: pollCtx, response }) => {
            if (response.status === 204) return poll();
            if (response.status === 404) {
              // A gateway that restarted forgets in-memory holds (PROTOCOL.md): no decision will come.
              throw new GatewayError(
                `the gateway no longer knows escalation ${escalationId} (404 on ${pollCtx.url}); no human decision will arrive`,
                { url: pollCtx.url, kind: 'status', status: 404 },
              );
            }
            if (response.status !== 200) throw statusError(pollCtx, response.status, response.text);
            const final = this.parseExecute(pollCtx, response);
            if (final.escalationId !== null && final.escalationId !== escalationId) {
              throw protocolError(
                pollCtx,
                `the wait for escalation ${escalationId} answered for escalation ${final.escalationId}`,
                200,
              );
            }
            // Our server always names the escalation; fill it in where another one does not.
            return of(
              decided({
                ...final,
                escalationId,
                escalationOutcome: escalationOutcomeOf(final.decision, final.reason, escalationId),
              }),
            );
          }),
        );
      });
    return poll().pipe(
      catchError((error: unknown) => {
        throw error instanceof GatewayError
          ? escalationWaitError(this.context('GET', path), escalationId, error)
          : error;
      }),
    );
  }

  private parseExecute(ctx: ExchangeContext, response: RawResponse): GatewayResponse {
    return this.parse(ctx, response, fromWireResponse);
  }

  private parseAccepted(
    ctx: ExchangeContext,
    response: RawResponse,
    request: GatewayRequest,
  ): EscalationTicket {
    const accepted = this.parse(ctx, response, fromWireEscalationAccepted);
    return {
      escalationId: accepted.escalation_id,
      action: request.action,
      agentId: request.agentId,
      sessionId: request.sessionId,
      parameters: request.parameters ?? null,
      reason: accepted.reason ?? '',
      createdAt: accepted.created_at ?? new Date().toISOString(),
      expiresAt: accepted.expires_at ?? null,
    };
  }

  /** Content type, JSON syntax, then shape: any failure is a `protocol` error, never a default. */
  private parse<T>(ctx: ExchangeContext, response: RawResponse, read: (body: unknown) => T): T {
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
  private exchange(
    method: 'GET' | 'POST',
    path: string,
    options: {
      data?: unknown;
      params?: Record<string, string | number>;
      headers?: Record<string, string>;
    },
    timeoutMs: number = this.timeoutMs,
  ): Observable<{ ctx: ExchangeContext; response: RawResponse }> {
    return new Observable<{ ctx: ExchangeContext; response: RawResponse }>((subscriber) => {
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

  private context(method: string, path: string): ExchangeContext {
    return { method, url: this.target + path, apiKey: this.#apiKey };
  }
}

function acceptEveryStatus(): boolean {
  return true;
}

function unchanged(data: unknown): unknown {
  return data;
}

function decided(response: GatewayResponse): GatewayEvent {
  return { type: 'decided', response };
}

function toRaw(response: AxiosResponse<unknown>): RawResponse {
  const contentType = response.headers['content-type'];
  return {
    status: response.status,
    contentType: typeof contentType === 'string' ? contentType : '',
    text: typeof response.data === 'string' ? response.data : '',
  };
}

function parseGatewayUrl(value: unknown): URL {
  let url: URL | null = null;
  if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = null;
    }
  }
  if (
    url === null ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    const shown = typeof value === 'string' ? value.replace(/\/\/[^/@]*@/, '//') : value;
    throw new ProvenanceConfigError('gatewayUrl', Messages.badGatewayUrl(String(shown)));
  }
  return url;
}

/** Base URL without a trailing slash; credentials only where the request needs them, never in messages. */
function displayUrl(url: URL, withCredentials = false): string {
  const copy = new URL(url.href);
  if (!withCredentials) {
    copy.username = '';
    copy.password = '';
  }
  return copy.href.replace(/\/+$/, '');
}
