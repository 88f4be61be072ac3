import { isDecision } from '../protocol/decision';
import type { GatewayResponse } from '../protocol/gateway.types';

/** GatewayResponse's members in the order the engine builds them. */
const MEMBERS = [
  'eventId',
  'decision',
  'reason',
  'escalationId',
  'actorHumanId',
  'approverReason',
  'escalationOutcome',
] as const;

/**
 * JSON escapes that jsonb refuses: NUL (PostgreSQL text cannot hold it) and
 * a lone surrogate (JSON.stringify writes a paired one as the character, so
 * an escaped one is alone). A false match only costs the other form.
 */
const UNSTORABLE = /\\u(0000|d[89a-f])/i;

/**
 * The `response` column's value (bound as jsonb text) for an answer: the
 * GatewayResponse as a JSON object, or, when one of its strings holds what
 * jsonb cannot keep, its exact JSON text as a jsonb string. Either reads back
 * as the same response (responseFromColumn).
 */
export function responseColumn(response: GatewayResponse): string {
  const text = JSON.stringify(response);
  return UNSTORABLE.test(text) ? JSON.stringify(text) : text;
}

/**
 * The stored answer back, its members in the engine's order; null when the
 * column holds no well-formed GatewayResponse (an unknown answer is never
 * replayed as one).
 */
export function responseFromColumn(value: unknown): GatewayResponse | null {
  let stored = value;
  if (typeof stored === 'string') {
    try {
      stored = JSON.parse(stored) as unknown;
    } catch {
      return null;
    }
  }
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return null;
  const found = stored as Record<string, unknown>;
  if (!isDecision(found.decision) || typeof found.reason !== 'string') return null;
  for (const member of ['eventId', 'escalationId', 'actorHumanId'] as const) {
    if (found[member] !== null && typeof found[member] !== 'string') return null;
  }
  const known: readonly string[] = MEMBERS;
  const entries = [
    ...MEMBERS.filter((member) => Object.hasOwn(found, member)),
    ...Object.keys(found).filter((member) => !known.includes(member)),
  ].map((member) => [member, found[member]] as const);
  return Object.fromEntries(entries) as unknown as GatewayResponse;
}
