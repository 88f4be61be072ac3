import { redactUrl } from './redact-url';

/**
 * What the escalation webhooks say, at start-up and in the log. No message
 * contains a secret: a bad `secret` is named by its type only, and every URL
 * is shown redacted (no user, password or query).
 */
export const NotifyMessages = {
  badList: (got: unknown) =>
    `nestjs-provenance: \`notify\` must be an array of webhook targets such as ` +
    `[{ url: 'https://ops.example.com/provenance', secret: process.env.WEBHOOK_SECRET }]; got ${kindOf(got)}.`,
  badTarget: (option: string, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be an object { url, secret, events?, timeout?, maxAttempts? }; got ${kindOf(got)}.`,
  unknownField: (option: string, known: readonly string[]) =>
    `nestjs-provenance: unknown option \`${option}\` (known: ${known.join(', ')}).`,
  badUrl: (option: string, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be an http:// or https:// URL; got ${
      typeof got === 'string' ? `'${redactUrl(got)}'` : kindOf(got)
    }.`,
  badSecret: (option: string, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be a non-empty string (the shared secret the receiver ` +
    `verifies the signature with; at least 16 characters); got ${describeSecret(got)}. The value is not shown.`,
  badEvents: (option: string, allowed: readonly string[], got: unknown) =>
    `nestjs-provenance: \`${option}\` must be a non-empty array of ${allowed.map((t) => `'${t}'`).join(', ')}; got ${
      Array.isArray(got) ? JSON.stringify(got) : kindOf(got)
    }.`,
  badPositive: (option: string, unit: string, max: number, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be a whole number of ${unit} from 1 to ${max}; got ${
      typeof got === 'number' ? String(got) : kindOf(got)
    }.`,
  dropped: (url: string, dropped: number, capacity: number) =>
    `Webhook ${url}: queue full (${capacity} waiting), dropped the oldest delivery ` +
    `(${dropped} dropped so far). The receiver is slow or down; decisions are not delayed.`,
  gaveUp: (url: string, type: string, escalationId: string, attempts: number, why: string) =>
    `Webhook ${url}: gave up delivering ${type} of escalation ${escalationId} after ${attempts} attempt(s): ${why}.`,
  notRetried: (url: string, type: string, escalationId: string, why: string) =>
    `Webhook ${url}: ${type} of escalation ${escalationId} refused (${why}); not retried.`,
  envPair: () =>
    'nestjs-provenance: set both PROVENANCE_NOTIFY_URL and PROVENANCE_NOTIFY_SECRET (a webhook ' +
    'receiver and the secret its posts are signed with), or neither.',
  fromEnv: (problem: string) =>
    `${problem} (from PROVENANCE_NOTIFY_URL, PROVENANCE_NOTIFY_SECRET and PROVENANCE_NOTIFY_EVENTS)`,
  abandonedAtClose: (url: string, count: number) =>
    `Webhook ${url}: ${count} delivery(ies) not made before the gateway closed; given up.`,
} as const;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `'${value.slice(0, 60)}'` : typeof value;
}

function describeSecret(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} character(s)`;
  return value === null ? 'null' : typeof value;
}
