import type * as http from 'node:http';
import type * as https from 'node:https';
import axios, { type AxiosAdapter, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import type { HttpService } from '@nestjs/axios';
import { directAdapter } from './axios-direct.adapter';
import {
  keepAliveAgents,
  MAX_BODY_BYTES,
  type HttpClient,
  type OutgoingRequest,
  type RawResponse,
  type RequestAbort,
} from './http-client';
import { nodeTarget, type NodeTarget } from './node-request';

const UNSET = Symbol('unset');

/** The variables axios' proxy lookup (proxy-from-env) reads. */
const PROXY_VARIABLE = /^(npm_config_)?(https?_|all_)?proxy$/i;

/**
 * Sends through the axios instance of an HttpService (the user's, with its
 * interceptors, or one of our own). Its axios is called directly rather than
 * through `HttpService.get/post`: those make a CancelToken per request and
 * cancel it on every teardown, also after the answer arrived, which builds a
 * CanceledError (stack trace included) per call.
 *
 * When the instance sends with axios' http adapter (the default in Node),
 * the request goes out through `directAdapter` (axios-direct.adapter.ts):
 * interceptors run as before, and a request it cannot send exactly as axios
 * would goes to axios' adapter after all.
 */
export class AxiosHttpClient implements HttpClient {
  private readonly agents: { http: http.Agent; https: https.Agent };
  /**
   * `proxy: false` when neither the instance nor the environment names a proxy
   * (read once, here): axios would otherwise look the environment up and parse
   * the URL again on every request. An interceptor may still set one.
   */
  private readonly noProxy: boolean;
  private readonly target: NodeTarget;
  /** The instance's configured adapter the last time we looked, and ours for it (undefined: axios' own). */
  private adapterOf: { configured: unknown; adapter: AxiosAdapter | undefined } = {
    configured: UNSET,
    adapter: undefined,
  };

  constructor(
    private readonly http: HttpService,
    /** Base URL with any credentials (axios sends them as basic auth). */
    private readonly baseUrl: string,
    env: Record<string, string | undefined> = process.env,
  ) {
    // Made here rather than on an axios instance so that an injected HttpService gets keep-alive too.
    this.agents = keepAliveAgents();
    this.noProxy =
      http.axiosRef.defaults.proxy === undefined &&
      !Object.keys(env).some((name) => PROXY_VARIABLE.test(name) && env[name]);
    this.target = nodeTarget(new URL(baseUrl));
  }

  /** Ours in place of axios' http adapter; checked per call since an instance's defaults may change. */
  private adapter(): AxiosAdapter | undefined {
    const configured = this.http.axiosRef.defaults.adapter;
    if (configured !== this.adapterOf.configured) {
      const resolved = httpAdapterOf(configured);
      this.adapterOf = {
        configured,
        adapter:
          resolved === undefined ? undefined : directAdapter(this.baseUrl, this.target, resolved),
      };
    }
    return this.adapterOf.adapter;
  }

  send(request: OutgoingRequest, abort: RequestAbort): Promise<RawResponse> {
    const config: AxiosRequestConfig = {
      method: request.method,
      url: this.baseUrl + request.path,
      headers: request.headers,
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      maxRedirects: 0,
      // Every status resolves: the mapping is the exchange's, not axios's.
      validateStatus: acceptEveryStatus,
      responseType: 'text',
      // Parse ourselves so that a non-JSON body is an error, not a string that looks like data.
      transformResponse: UNCHANGED,
      // We send the JSON text ourselves: axios deep-merges an object body and drops
      // every `__proto__`, `constructor` and `prototype` key on the way, so the
      // gateway would audit other parameters than the ones we normalised and hashed.
      transformRequest: UNCHANGED,
      maxContentLength: MAX_BODY_BYTES,
      // The request body is bounded by maxParametersBytes before anything is sent;
      // a second, lower cap here made larger configured limits fail as protocol errors.
      maxBodyLength: Infinity,
      // An injected instance may have its own timeout; ours is the exchange's timer.
      timeout: 0,
      signal: abort,
    };
    if (request.query !== undefined) config.params = request.query;
    if (request.body !== undefined) config.data = request.body;
    if (this.noProxy) config.proxy = false;
    const adapter = this.adapter();
    if (adapter !== undefined) config.adapter = adapter;
    return this.http.axiosRef.request<string>(config).then(toRaw);
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

/**
 * axios' http adapter when `configured` names it (as the default list does in
 * Node), else undefined. An adapter axios cannot resolve is left to axios,
 * which reports it on the request.
 */
function httpAdapterOf(configured: unknown): AxiosAdapter | undefined {
  if (configured === undefined || typeof axios.getAdapter !== 'function') return undefined;
  try {
    const resolved = axios.getAdapter(configured as Parameters<typeof axios.getAdapter>[0]);
    return resolved === axios.getAdapter('http') ? resolved : undefined;
  } catch {
    return undefined;
  }
}

function acceptEveryStatus(): boolean {
  return true;
}

const UNCHANGED = [(data: unknown): unknown => data];

function toRaw(response: AxiosResponse<unknown>): RawResponse {
  const contentType = response.headers['content-type'];
  return {
    status: response.status,
    contentType: typeof contentType === 'string' ? contentType : '',
    text: typeof response.data === 'string' ? response.data : '',
  };
}
