import type { EscalationEventType } from '../protocol/escalation-event';
import { NotifyMessages } from './notify.messages';
import { redactUrl } from './redact-url';

/** The escalation steps a webhook can be sent for (all of them by default). */
export const WEBHOOK_EVENT_TYPES: readonly EscalationEventType[] = [
  'pending',
  'approved',
  'rejected',
  'expired',
  'withdrawn',
];

/** One receiver of escalation webhooks (docs/webhooks.md). */
export interface NotifyTarget {
  /** Where to POST: an http:// or https:// URL. Shown redacted in logs (no credentials, no query). */
  url: string;
  /** Shared secret the body is signed with (HMAC-SHA256), at least 16 characters. Never logged. */
  secret: string;
  /** Which steps to send. Default: all (`pending`, `approved`, `rejected`, `expired`, `withdrawn`). */
  events?: readonly EscalationEventType[];
  /** Time allowed per attempt, in ms, before it counts as failed (and is retried). Default 5000. */
  timeout?: number;
  /** Attempts per delivery, the first included, on network errors, 5xx and 429. Default 5. */
  maxAttempts?: number;
}

/** A target with its defaults filled. */
export interface ResolvedNotifyTarget {
  /** The URL without its user and password (fetch refuses them), which become `authorization`. */
  url: string;
  /** `Basic <base64>` from a URL's `user:password@`, else null. Never logged. */
  authorization: string | null;
  secret: string;
  events: ReadonlySet<EscalationEventType>;
  timeout: number;
  maxAttempts: number;
  /** The URL as logs show it. */
  shownUrl: string;
}

const FIELDS = ['url', 'secret', 'events', 'timeout', 'maxAttempts'] as const;
const MIN_SECRET_LENGTH = 16;
const MAX_TIMEOUT_MS = 120_000;
const MAX_ATTEMPTS = 20;

/**
 * The check of the `notify` option, in the shape of the client's option
 * checks: `null` when acceptable, else the message naming the field at fault
 * (`notify[0].url`). The secret is never shown.
 */
export function notifyOptionProblem(value: unknown, option: string): string | null {
  if (!Array.isArray(value)) return NotifyMessages.badList(value);
  for (const [index, target] of value.entries()) {
    const problem = targetProblem(target, `${option}[${index}]`);
    if (problem !== null) return problem;
  }
  return null;
}

function targetProblem(target: unknown, name: string): string | null {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    return NotifyMessages.badTarget(name, target);
  }
  const record = target as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      return NotifyMessages.unknownField(`${name}.${key}`, FIELDS);
    }
  }
  if (!isHttpUrl(record.url)) return NotifyMessages.badUrl(`${name}.url`, record.url);
  const { secret, events, timeout, maxAttempts } = record;
  if (typeof secret !== 'string' || secret.trim().length < MIN_SECRET_LENGTH) {
    return NotifyMessages.badSecret(`${name}.secret`, secret);
  }
  if (
    events !== undefined &&
    (!Array.isArray(events) ||
      events.length === 0 ||
      !events.every((e) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(e)))
  ) {
    return NotifyMessages.badEvents(`${name}.events`, WEBHOOK_EVENT_TYPES, events);
  }
  if (timeout !== undefined && !isWhole(timeout, MAX_TIMEOUT_MS)) {
    return NotifyMessages.badPositive(`${name}.timeout`, 'milliseconds', MAX_TIMEOUT_MS, timeout);
  }
  if (maxAttempts !== undefined && !isWhole(maxAttempts, MAX_ATTEMPTS)) {
    return NotifyMessages.badPositive(`${name}.maxAttempts`, 'attempts', MAX_ATTEMPTS, maxAttempts);
  }
  return null;
}

/**
 * The one receiver of PROVENANCE_NOTIFY_URL and PROVENANCE_NOTIFY_SECRET (both
 * or neither), with PROVENANCE_NOTIFY_EVENTS (comma-separated steps) if set;
 * undefined when neither is set. Checked; the secret is never shown.
 */
export function notifyTargetsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): NotifyTarget[] | undefined {
  const url = env.PROVENANCE_NOTIFY_URL?.trim() || undefined;
  const secret = env.PROVENANCE_NOTIFY_SECRET?.trim() || undefined;
  if (url === undefined && secret === undefined) return undefined;
  if (url === undefined || secret === undefined) throw new Error(NotifyMessages.envPair());
  const events = env.PROVENANCE_NOTIFY_EVENTS?.split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const target = { url, secret, ...(events?.length ? { events } : {}) } as NotifyTarget;
  const problem = notifyOptionProblem([target], 'notify');
  if (problem !== null) throw new Error(NotifyMessages.fromEnv(problem));
  return [target];
}

/** The targets of a checked `notify` option, defaults filled. */
export function resolveNotifyTargets(targets: readonly NotifyTarget[]): ResolvedNotifyTarget[] {
  return targets.map((t) => ({
    ...splitCredentials(t.url),
    secret: t.secret,
    events: new Set(t.events ?? WEBHOOK_EVENT_TYPES),
    timeout: t.timeout ?? 5_000,
    maxAttempts: t.maxAttempts ?? 5,
    shownUrl: redactUrl(t.url),
  }));
}

/** `https://user:pass@host/x` → `https://host/x` with HTTP Basic credentials. */
function splitCredentials(text: string): { url: string; authorization: string | null } {
  const url = new URL(text);
  if (url.username === '' && url.password === '') return { url: text, authorization: null };
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function isWhole(value: unknown, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}
