import { Decision } from '../protocol/decision';
import type { GatewayResponse } from '../protocol/gateway.types';
import type { PostgresContext } from './postgres-context';
import { PostgresOptionMessages } from './postgres-options.messages';

/** What the `escalations` row of an ended escalation says the call's answer was. */
export type StoredOutcome =
  { kind: 'unknown' } | { kind: 'pending' } | { kind: 'ended'; response: GatewayResponse };

/** An ended escalation whose row holds no well-formed answer: final, and never an ALLOW. */
export class MalformedOutcomeError extends Error {}

const ENDINGS: Readonly<Record<string, string>> = {
  APPROVED: 'approved',
  REJECTED: 'rejected',
  TIMEOUT: 'expired',
  WITHDRAWN: 'withdrawn',
};

/**
 * Reads the answer an escalation's ending recorded (the `outcome` column,
 * written in the ending's transaction), for a server that did not hold the
 * call: its `/wait` answers from here. Fails closed: an ALLOW is returned
 * only for a row whose status is APPROVED and whose outcome says approved;
 * an ended row without a well-formed outcome throws, and is never an answer.
 */
export async function readStoredOutcome(
  context: PostgresContext,
  tenantId: string,
  escalationId: string,
): Promise<StoredOutcome> {
  await context.ready();
  const found = await context.pool.query<{ status: string; outcome: unknown }>(
    `SELECT status, outcome FROM ${context.schema}.escalations WHERE id = $1 AND tenant_id = $2`,
    [escalationId, tenantId],
  );
  const row = found.rows[0];
  if (row === undefined) return { kind: 'unknown' };
  if (row.status === 'PENDING') return { kind: 'pending' };
  return { kind: 'ended', response: checkedOutcome(row.status, row.outcome, escalationId) };
}

function checkedOutcome(status: string, outcome: unknown, escalationId: string): GatewayResponse {
  const fail = (): never => {
    throw new MalformedOutcomeError(PostgresOptionMessages.badStoredOutcome(escalationId, status));
  };
  if (typeof outcome !== 'object' || outcome === null || Array.isArray(outcome)) return fail();
  const response = outcome as Partial<GatewayResponse>;
  const ending = ENDINGS[status];
  if (ending === undefined) return fail();
  if (response.decision !== Decision.ALLOW && response.decision !== Decision.BLOCK) return fail();
  // ALLOW only for an approval, both in the row's status and in the recorded answer.
  if (
    response.decision === Decision.ALLOW &&
    (status !== 'APPROVED' || response.escalationOutcome !== 'approved')
  ) {
    return fail();
  }
  if (typeof response.reason !== 'string') return fail();
  if (response.escalationId !== escalationId) return fail();
  if (typeof response.eventId !== 'string' && response.eventId !== null) return fail();
  return {
    eventId: response.eventId ?? null,
    decision: response.decision,
    reason: response.reason,
    escalationId,
    actorHumanId: typeof response.actorHumanId === 'string' ? response.actorHumanId : null,
    approverReason: typeof response.approverReason === 'string' ? response.approverReason : null,
    escalationOutcome: (response.escalationOutcome ??
      ending) as GatewayResponse['escalationOutcome'],
  };
}
