import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature';

/** The headers of a webhook besides the signature. */
export const DELIVERY_HEADER = 'Provenance-Delivery';
export const EVENT_HEADER = 'Provenance-Event';

/** One POST to a receiver and what came of it. */
export type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  /** Network error, timeout, 408, 429 or 5xx: worth another attempt (after `retryAfterMs` if the receiver said). */
  | { kind: 'retry'; why: string; retryAfterMs: number | null }
  /** Any other answer (3xx, 4xx): the receiver refuses; another attempt would too. */
  | { kind: 'refused'; why: string };

export interface WebhookRequest {
  url: string;
  /** Sent as the Authorization header when set (a URL's user:password). */
  authorization: string | null;
  secret: string;
  body: string;
  deliveryId: string;
  eventType: string;
  /** Per attempt, in ms. */
  timeout: number;
  /** Aborts the attempt (the gateway closed and the flush time is over). */
  signal: AbortSignal;
}

const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Sends one attempt, signed afresh (a retry carries a new timestamp, so it
 * is inside the receiver's replay window however late it comes). Never
 * throws: every failure is an outcome.
 */
export async function attemptDelivery(request: WebhookRequest): Promise<AttemptOutcome> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(request.timeout)]);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'nestjs-provenance-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(request.body, request.secret, timestamp),
        [DELIVERY_HEADER]: request.deliveryId,
        [EVENT_HEADER]: request.eventType,
        ...(request.authorization === null ? {} : { authorization: request.authorization }),
      },
      body: request.body,
    });
  } catch (error) {
    return { kind: 'retry', why: failureText(error, request), retryAfterMs: null };
  }
  // The answer's body is not read: release the socket.
  await response.body?.cancel().catch(() => undefined);
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 408 || status === 429 || status >= 500) {
    return {
      kind: 'retry',
      why: `answered ${status}`,
      retryAfterMs: retryAfter(response.headers.get('retry-after')),
    };
  }
  return { kind: 'refused', why: `answered ${status}` };
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): exponential
 * from `baseMs`, at most `maxMs`, with jitter (between half and all of it),
 * so that receivers coming back are not hit by every gateway at once.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

function retryAfter(header: string | null): number | null {
  if (header === null || !/^\d{1,6}$/.test(header.trim())) return null;
  return Math.min(Number(header.trim()) * 1000, MAX_RETRY_AFTER_MS);
}

function failureText(error: unknown, request: WebhookRequest): string {
  if (request.signal.aborted) return 'abandoned: the gateway closed';
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `no answer within ${request.timeout} ms`;
  }
  // fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : null;
  const message = error instanceof Error ? error.message : String(error);
  // The message of a URL error may repeat the URL: keep only the code when there is one.
  return code ?? message.replace(/https?:\/\/\S+/g, '(url)');
}
