import { GatewayError } from '../../protocol/provenance.errors';

/*
 * How an HTTP exchange with the gateway maps to a GatewayError. Only
 * `unreachable` (the request certainly never reached a gateway) and a 503
 * (the gateway said it is unavailable, before deciding) are fail-open
 * eligible, so the question for every row is: could the gateway have
 * recorded (or decided, or be holding) this call?
 *
 * | what happened                                          | kind        | status |
 * |--------------------------------------------------------|-------------|--------|
 * | connection refused, DNS failure, host/net unreachable, | unreachable | null   |
 * |   TLS handshake failure (before the request is sent)   |             |        |
 * | ETIMEDOUT from the OS (may be an established socket)   | interrupted | null   |
 * | reset / socket hang up before any response header      | interrupted | null   |
 * | no complete answer within the `timeout` option         | timeout     | null   |
 * | 200 whose body is not the wire format (see wire.ts)     | protocol    | 200    |
 * | reset after the headers (body cut short)               | protocol    | status |
 * | body larger than the cap                               | protocol    | status |
 * | 3xx (redirects are never followed: the API key would   | protocol    | 3xx    |
 * |   go to wherever Location points)                      |             |        |
 * | 401, 403, 404, 422, other 4xx                          | status      | 4xx    |
 * | 503                                                    | status      | 503    |
 * | 500, 502, 504, other 5xx (a proxy's 502/504 may stand  | status      | 5xx    |
 * |   in front of a gateway that still holds the call)     |             |        |
 * | any failure after a 202 said the call is escalated     | protocol    | -      |
 *
 * A reset before the headers is not `unreachable` either: the request was
 * written, and a reference server holds an escalated call in exactly that
 * state, so failing open there would let through a call waiting for a human.
 * A reset after the headers is not `unreachable`: the server received the
 * request and may have recorded an event, so letting the call through
 * ("fail open") would act on an answer that was never read.
 * The last row: once the gateway escalated the call, a human must decide;
 * losing the gateway while waiting must not turn into an ALLOW.
 *
 * Messages never contain the API key: we build them from our own words plus
 * short, redacted excerpts of what the server said; a cause is a sanitized
 * `{ code, message }` Error, never the AxiosError (whose config carries the headers).
 */

export interface ExchangeContext {
  /** For messages: method and URL, without credentials. */
  method: string;
  url: string;
  apiKey: string;
}

/** Network error codes that mean the request never reached the gateway. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  // TLS: the handshake failed, so no request byte was sent.
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The connection broke after the request went out: it may have been recorded or held. */
// ETIMEDOUT: the OS gave up, which on a reused keep-alive socket can happen
// after the request was written; our own timeout is reported separately.
const INTERRUPTED_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ETIMEDOUT',
]);

export function statusError(ctx: ExchangeContext, status: number, body: string): GatewayError {
  const where = `${ctx.method} ${ctx.url}`;
  let message: string;
  if (status >= 300 && status < 400) {
    return protocolError(
      ctx,
      `the gateway answered ${where} with a redirect (${status}); redirects are not followed because ` +
        'they could carry the API key to another host: set gatewayUrl to the final address',
      status,
    );
  } else if (status === 401) {
    message =
      'the gateway rejected the API key (401) — check the apiKey option / PROVENANCE_API_KEY';
  } else if (status === 403) {
    message =
      "the gateway refused this API key access (403) — check the key's tenant and scope (apiKey option / PROVENANCE_API_KEY)";
  } else if (status === 404) {
    message = `${where} not found (404): is gatewayUrl the gateway's base URL?`;
  } else if (status === 422) {
    message = `the gateway rejected the request to ${where} as invalid (422)${validationSummary(body)}`;
  } else if (status >= 500) {
    message = `gateway error ${status} from ${where}${detailSummary(body)}`;
  } else {
    message = `the gateway answered ${where} with status ${status}${detailSummary(body)}`;
  }
  return new GatewayError(redact(message, ctx.apiKey), { url: ctx.url, kind: 'status', status });
}

export function protocolError(
  ctx: ExchangeContext,
  message: string,
  status: number | null,
  cause?: unknown,
): GatewayError {
  return new GatewayError(redact(`${message} (${ctx.method} ${ctx.url})`, ctx.apiKey), {
    url: ctx.url,
    kind: 'protocol',
    status,
    cause,
  });
}

export function timeoutError(ctx: ExchangeContext, timeoutMs: number): GatewayError {
  return new GatewayError(
    `the gateway did not answer ${ctx.method} ${ctx.url} within ${timeoutMs} ms (timeout option)`,
    { url: ctx.url, kind: 'timeout' },
  );
}

/**
 * An error thrown by axios itself: no status was handled (we accept every
 * status), so this is a network failure or a body that broke off.
 */
export function networkError(ctx: ExchangeContext, error: unknown): GatewayError {
  const { code, message } = describeNetworkError(error);
  const cause = sanitizedCause(code, message, ctx.apiKey);
  const responded =
    typeof error === 'object' &&
    error !== null &&
    (error as { response?: unknown }).response != null;
  const status = responded
    ? ((error as { response: { status?: number } }).response.status ?? null)
    : null;
  if (responded || code === 'ERR_BAD_RESPONSE') {
    return protocolError(
      ctx,
      `the gateway's answer broke off before it was complete (${code ?? message})`,
      status,
      cause,
    );
  }
  if ((code !== null && INTERRUPTED_CODES.has(code)) || /socket hang up/i.test(message)) {
    return new GatewayError(
      redact(
        `the connection to the gateway broke before it answered: ${ctx.method} ${ctx.url} (${code ?? message}); ` +
          'the call may have been recorded, so it is not let through',
        ctx.apiKey,
      ),
      { url: ctx.url, kind: 'interrupted', cause },
    );
  }
  if (code !== null && UNREACHABLE_CODES.has(code)) {
    return new GatewayError(
      redact(
        `the gateway could not be reached: ${ctx.method} ${ctx.url} failed (${code ?? message})`,
        ctx.apiKey,
      ),
      {
        url: ctx.url,
        kind: 'unreachable',
        cause,
      },
    );
  }
  // Unknown failure: not provably "never reached the server", so not fail-open eligible.
  return protocolError(
    ctx,
    `the exchange with the gateway failed (${code ?? message})`,
    status,
    cause,
  );
}

/** After a 202: the call is escalated, nothing may fail open any more. */
export function escalationWaitError(
  ctx: ExchangeContext,
  escalationId: string,
  error: GatewayError,
): GatewayError {
  if (!error.failOpenEligible) return error;
  return new GatewayError(
    redact(
      `lost the gateway while waiting for the human decision on escalation ${escalationId}: ${error.message}`,
      ctx.apiKey,
    ),
    { url: error.url, kind: 'protocol', status: error.status, cause: error.cause },
  );
}

export function redact(text: string, apiKey: string): string {
  return apiKey === '' ? text : text.split(apiKey).join('[redacted]');
}

function sanitizedCause(code: string | null, message: string, apiKey: string): Error {
  const cause = new Error(redact(message, apiKey));
  cause.name = 'HttpTransportError';
  if (code !== null) Object.assign(cause, { code });
  return cause;
}

function describeNetworkError(error: unknown): { code: string | null; message: string } {
  if (typeof error !== 'object' || error === null) return { code: null, message: String(error) };
  const { code, message, cause } = error as {
    code?: unknown;
    message?: unknown;
    cause?: { code?: unknown };
  };
  const own = typeof code === 'string' ? code : null;
  // axios wraps some socket errors: the interesting code is on the cause.
  const inner = cause && typeof cause.code === 'string' ? cause.code : null;
  return {
    code: own === 'ERR_BAD_RESPONSE' || own === null ? (inner ?? own) : own,
    message: typeof message === 'string' ? message : 'unknown error',
  };
}

/** FastAPI's `{"detail": [{"loc": [...], "msg": "..."}]}`: loc and msg only (the `input` echoes the body). */
function validationSummary(body: string): string {
  const detail = parseDetail(body);
  if (!Array.isArray(detail)) return detailSummary(body);
  const items = detail.slice(0, 3).map((item: unknown) => {
    const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
    const path = Array.isArray(loc) ? loc.map(String).join('.') : '?';
    return `${path}: ${typeof msg === 'string' ? msg : 'invalid'}`;
  });
  const more = detail.length > 3 ? `; and ${detail.length - 3} more` : '';
  return `: ${clip(items.join('; '), 300)}${more}`;
}

/** `{"detail": {"message": "..."}}` or `{"detail": "..."}`, when the server gives one. */
function detailSummary(body: string): string {
  const detail = parseDetail(body);
  const text =
    typeof detail === 'string'
      ? detail
      : detail && typeof (detail as { message?: unknown }).message === 'string'
        ? (detail as { message: string }).message
        : null;
  return text === null ? '' : `: ${clip(text, 200)}`;
}

function parseDetail(body: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as { detail?: unknown }).detail
      : undefined;
  } catch {
    return undefined;
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
