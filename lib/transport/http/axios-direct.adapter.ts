import * as http from 'node:http';
import * as https from 'node:https';
import axios, {
  AxiosError,
  AxiosHeaders,
  CanceledError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { sendNodeRequest, type AbortLike, type NodeTarget } from './node-request';

/**
 * Config keys whose every value the direct path honours as axios' http
 * adapter would, or which only a browser or another adapter reads.
 */
const HONOURED = new Set([
  'adapter',
  'transitional',
  'transformRequest',
  'transformResponse',
  'xsrfCookieName',
  'xsrfHeaderName',
  'withCredentials',
  'withXSRFToken',
  'env',
  'validateStatus',
  'headers',
  'method',
  'url',
  'baseURL',
  'signal',
  'httpAgent',
  'httpsAgent',
  'maxContentLength',
  'maxBodyLength',
  'decompress',
]);

/** Config keys the direct path honours with these values only; any other value goes through axios' adapter. */
const ONLY: Record<string, (value: unknown) => boolean> = {
  timeout: (value) => value === 0,
  maxRedirects: (value) => value === 0,
  responseType: (value) => value === 'text',
  responseEncoding: (value) => value === 'utf8',
  data: (value) => typeof value === 'string',
  params: (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 0,
  allowAbsoluteUrls: (value) => value !== false,
};

/** A path axios would send unchanged: URL characters only, no query, fragment or dot segment (`%2e` is a dot too). */
const PLAIN_PATH = /^(?!.*%2e)(\/[A-Z0-9\-_~!$&'()*+,;=:@%]+(\.[A-Z0-9\-_~!$&'()*+,;=:@%]+)*)+$/i;

/**
 * An axios adapter for the transport's own requests: the request interceptors
 * have run and the response interceptors will, as with any adapter, but the
 * request goes out through `sendNodeRequest` rather than through axios' http
 * adapter, which builds a URL, a header object, a redirect wrapper and a
 * response stream pipeline per call (over half the client's CPU per call).
 *
 * It sends directly only a request it can send exactly as axios would: to
 * `baseUrl`, with every config key in HONOURED or at a value ONLY allows,
 * and without an Accept-Encoding header (the direct path asks for no
 * compression, so it never has to undo one). Anything else — a proxy, a
 * timeout, redirects, params, a streamed or binary response, a changed URL —
 * goes to `fallback`, axios' own http adapter, unchanged.
 */
export function directAdapter(
  baseUrl: string,
  target: NodeTarget,
  fallback: AxiosAdapter,
): AxiosAdapter {
  const prefix = baseUrl + '/';
  return (config) => {
    const url = config.url;
    const path = typeof url === 'string' && url.startsWith(prefix) ? url.slice(baseUrl.length) : '';
    if (!PLAIN_PATH.test(path) || config.headers.has('accept-encoding') || !sendsDirectly(config)) {
      return fallback(config);
    }
    return send(config, target, path);
  };
}

function sendsDirectly(config: InternalAxiosRequestConfig): boolean {
  // No proxy: the client sets `false` when neither the instance nor the environment
  // names one; left undefined, axios would look one up in the environment.
  if (config.proxy !== false) return false;
  for (const key of Object.keys(config)) {
    if (key === 'proxy') continue;
    const value = (config as unknown as Record<string, unknown>)[key];
    if (value === undefined || HONOURED.has(key)) continue;
    const only = ONLY[key];
    if (only === undefined || !only(value)) return false;
  }
  // Axios rejects a body over maxBodyLength before sending; let it.
  const limit = config.maxBodyLength;
  return (
    limit === undefined ||
    limit === -1 ||
    config.data === undefined ||
    Buffer.byteLength(config.data as string) <= limit
  );
}

function send(
  config: InternalAxiosRequestConfig,
  target: NodeTarget,
  path: string,
): Promise<AxiosResponse<string>> {
  // What axios' http adapter does to the headers before sending.
  const headers = AxiosHeaders.from(config.headers).normalize(false);
  headers.set('User-Agent', `axios/${axios.VERSION}`, false);
  const body = config.data as string | undefined;
  if (body !== undefined) headers.setContentLength(Buffer.byteLength(body), false);
  // Credentials in the URL replace any Authorization header (as basic auth).
  if (target.auth !== undefined) headers.delete('authorization');
  const agent = target.secure
    ? ((config.httpsAgent as https.Agent | undefined) ?? https.globalAgent)
    : ((config.httpAgent as http.Agent | undefined) ?? http.globalAgent);
  return sendNodeRequest(target, {
    method: (config.method ?? 'get').toUpperCase(),
    path,
    headers: headers.toJSON() as http.OutgoingHttpHeaders,
    body,
    agent,
    maxBodyBytes: config.maxContentLength ?? -1,
    signal: config.signal as AbortLike | undefined,
  }).then(
    (answer) => {
      const text = answer.text.charCodeAt(0) === 0xfeff ? answer.text.slice(1) : answer.text;
      const response: AxiosResponse<string> = {
        data: text,
        status: answer.status,
        statusText: answer.statusMessage,
        headers: new AxiosHeaders(answer.headers as Record<string, string>),
        config,
        request: answer.request,
      };
      const refused = refusal(response);
      if (refused !== null) throw refused;
      return response;
    },
    (error: unknown) => {
      throw axiosErrorOf(error, config);
    },
  );
}

/** axios' `settle`: validateStatus decides; a refused status is ERR_BAD_REQUEST (4xx) or ERR_BAD_RESPONSE, else null. */
function refusal(response: AxiosResponse<string>): AxiosError | null {
  const validate = response.config.validateStatus;
  if (response.status === 0 || !validate || validate(response.status)) return null;
  return new AxiosError(
    `Request failed with status code ${response.status}`,
    response.status >= 400 && response.status < 500
      ? AxiosError.ERR_BAD_REQUEST
      : AxiosError.ERR_BAD_RESPONSE,
    response.config,
    response.request,
    response,
  );
}

/** A failure as axios' http adapter reports it: cancelled, broken after the headers, or the socket's own error. */
function axiosErrorOf(error: unknown, config: InternalAxiosRequestConfig): AxiosError {
  if (config.signal?.aborted === true) return new CanceledError(undefined, config);
  const failure = error as { message?: string; response?: { status?: number } };
  if (failure.response !== undefined) {
    // After the headers: the body broke off or passed maxContentLength.
    return new AxiosError(
      failure.message ?? 'stream has been aborted',
      AxiosError.ERR_BAD_RESPONSE,
      config,
      undefined,
      {
        data: undefined,
        status: failure.response.status ?? 0,
        statusText: '',
        headers: new AxiosHeaders(),
        config,
      },
    );
  }
  return AxiosError.from(error as Error, undefined, config);
}
