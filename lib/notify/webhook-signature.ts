import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature of an escalation webhook (docs/webhooks.md), Stripe-like:
 * `Provenance-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * The timestamp is signed with the body, so a receiver that checks it within
 * a window refuses a replayed request as well as a tampered one.
 */
export const SIGNATURE_HEADER = 'Provenance-Signature';

/** The default replay window of `verifyWebhookSignature`, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface VerifyWebhookOptions {
  /** How old (or how far in the future) the signed timestamp may be. Default 300 s. */
  toleranceSeconds?: number;
  /** The receiver's clock, in unix seconds. Default: now. */
  now?: number;
}

/** The hex HMAC-SHA256 of `${timestamp}.${body}` under `secret`. */
export function webhookSignature(body: string | Buffer, secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The `Provenance-Signature` header value for `body` signed at `timestamp` (unix seconds). */
export function signatureHeader(body: string | Buffer, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${webhookSignature(body, secret, timestamp)}`;
}

/**
 * True when `header` (the `Provenance-Signature` value) signs exactly `body`
 * (the raw request body, as received: parse it only afterwards) with `secret`
 * (or one of `secret`, while rotating), at a time within `toleranceSeconds`
 * of now. Anything else, a missing or malformed header included, is false.
 */
export function verifyWebhookSignature(
  body: string | Buffer,
  header: string | readonly string[] | undefined | null,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): boolean {
  return webhookSignatureProblem(body, header, secret, options) === null;
}

/** Why `verifyWebhookSignature` says false (for the receiver's log), or null when it says true. */
export function webhookSignatureProblem(
  body: string | Buffer,
  header: string | readonly string[] | undefined | null,
  secret: string | readonly string[],
  options: VerifyWebhookOptions = {},
): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || value === '') return `no ${SIGNATURE_HEADER} header`;
  const parsed = parseHeader(value);
  if (parsed === null) return `malformed ${SIGNATURE_HEADER} header (expected t=<unix>,v1=<hex>)`;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.timestamp) > tolerance) {
    return `timestamp ${parsed.timestamp} is outside the ${tolerance} s window (now ${now})`;
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  for (const s of secrets) {
    if (typeof s !== 'string' || s === '') continue;
    const expected = Buffer.from(webhookSignature(body, s, parsed.timestamp), 'hex');
    for (const candidate of parsed.signatures) {
      const given = Buffer.from(candidate, 'hex');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
    }
  }
  return 'no v1 signature matches the body and the secret';
}

function parseHeader(value: string): { timestamp: number; signatures: string[] } | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const item = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(item)) timestamp = Number(item);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(item)) signatures.push(item);
  }
  return timestamp === null || signatures.length === 0 ? null : { timestamp, signatures };
}
