import type { PgPoolClient } from './pg.types';
import { prepareEvent, type AuditEvent, type AuditEventInput } from '../engine/audit/audit-event';
import { grantChangedInput, outcomeEventInput, outcomeResponse } from '../engine/engine-recorder';
import { EmbeddedGatewayMessages } from '../engine/engine.messages';
import type { HoldOutcome, HoldStatus } from '../engine/escalation/escalation-holds';
import { singleUseGrant } from '../engine/grants/grant-book';
import type { EscalationStatus, GatewayResponse } from '../protocol/gateway.types';
import type { GrantRecord } from '../protocol/grant.types';
import { ApprovalForbiddenError } from '../protocol/provenance.errors';
import { appendChainedWithin } from './postgres-audit-append';
import type { PostgresContext } from './postgres-context';
import {
  ESCALATION_COLUMNS,
  STATUS_OF,
  notifyPayload,
  parametersOf,
  type EscalationRow,
} from './postgres-escalation-rows';
import { insertGrantWithin } from './postgres-grant-rows';
import type { PostgresReplica } from './postgres-replica';

/** Where an ending happens: the tenant's rows, the replica judging holders alive, the channel told. */
export interface EndingScope {
  context: PostgresContext;
  tenantId: string;
  replica: PostgresReplica;
  channel: string;
}

/** How a hold ends, and who ended it. */
export interface EndingInput {
  escalationId: string;
  status: HoldStatus;
  /** Who decided; null for an expiry or a withdrawal. */
  approverId: string | null;
  /** The approver's reason; for an expiry null, or 'gateway closed'. */
  reason: string | null;
  /**
   * True when the replica ending it holds the call and its caller waits
   * there: the caller is then known to wait whatever the holder's heartbeat
   * looks like from the database.
   */
  waitingHere: boolean;
}

/** A recorded ending: the row as it is now (outcome included), the answer, and the events. */
export interface EscalationEnding {
  row: EscalationRow;
  response: GatewayResponse;
  /** `grant.created` (when the approval became a single-use grant), then the outcome event. */
  events: AuditEvent[];
  retryGrant: GrantRecord | null;
}

type EndedRow = EscalationRow & { holder_alive: boolean };

/**
 * The one place an escalation leaves PENDING, on any replica: one
 * transaction that ends the row with a conditional UPDATE (`status =
 * 'PENDING'`: of every replica racing, exactly one finds it), records the
 * outcome event in the tenant's chain (after the single-use grant and its
 * `grant.created` event when the approval has no caller left: the holder
 * detached, or its heartbeat is stale), stores the answer on the row and
 * notifies the tenant's channel, all committed together. Resolves null
 * when the escalation is unknown or already ended; throws
 * ApprovalForbiddenError (changing nothing) when the agent that asked
 * approves its own call; rejects on a database error (nothing is ended).
 */
export function endEscalation(
  scope: EndingScope,
  input: EndingInput,
): Promise<EscalationEnding | null> {
  return scope.context.transaction(async (client) => {
    const now = Date.now();
    const decidedAt = new Date(now).toISOString();
    const row = await claimPending(client, scope, input, decidedAt);
    if (row === null) return null;
    const callerWaiting = row.caller_waiting && (input.waitingHere || row.holder_alive);
    const outcome: HoldOutcome = {
      escalationId: row.id,
      status: input.status,
      approverId: input.approverId,
      reason: input.reason,
      decidedAt,
      parametersHash: row.parameters_hash,
      callerWaiting,
    };
    const retryGrant =
      input.status === 'approved' && !callerWaiting
        ? singleUseGrant(
            scope.tenantId,
            { action: row.action, agentId: row.agent_id, parametersHash: row.parameters_hash },
            row.id,
            input.approverId as string,
            input.reason,
            now,
          )
        : null;
    const inputs: AuditEventInput[] = [];
    if (retryGrant !== null) {
      await insertGrantWithin(client, scope.context.schema, retryGrant);
      inputs.push(
        grantChangedInput(scope.tenantId, 'grant.created', retryGrant, retryGrant.grantedBy),
      );
    }
    const call = { sessionId: row.session_id, agentId: row.agent_id, action: row.action };
    inputs.push(outcomeEventInput(scope.tenantId, call, parametersOf(row), outcome, retryGrant));
    const events = await appendChainedWithin(
      client,
      scope.context.schema,
      scope.tenantId,
      inputs.map((event) => prepareEvent(event, now)),
    );
    const response = outcomeResponse(events[events.length - 1].id, outcome, retryGrant);
    await storeOutcome(client, scope, row, response, callerWaiting);
    const { holder_alive: _alive, ...ended } = row;
    return {
      row: {
        ...ended,
        caller_waiting: callerWaiting,
        outcome: response,
        outcome_event_id: response.eventId,
      },
      response,
      events,
      retryGrant,
    };
  });
}

/** The conditional UPDATE; null when nothing was PENDING to end (after the self-approval check). */
async function claimPending(
  client: PgPoolClient,
  scope: EndingScope,
  input: EndingInput,
  decidedAt: string,
): Promise<EndedRow | null> {
  const { schema } = scope.context;
  const status = STATUS_OF[input.status];
  const updated = await client.query<EndedRow>(
    `UPDATE ${schema}.escalations AS e
        SET status = $3, approver_id = $4, approver_reason = $5, decided_at = $6
      WHERE e.id = $1 AND e.tenant_id = $2 AND e.status = 'PENDING'
        AND NOT ($3 = 'APPROVED' AND e.agent_id IS NOT DISTINCT FROM $4)
      RETURNING ${prefixed('e', ESCALATION_COLUMNS)}, ${scope.replica.aliveSql('e.holder')} AS holder_alive`,
    [input.escalationId, scope.tenantId, status, input.approverId, input.reason, decidedAt],
  );
  const row = updated.rows[0];
  if (row !== undefined) return row;
  if (input.status === 'approved' && input.approverId !== null) {
    const found = await client.query<{ agent_id: string }>(
      `SELECT agent_id FROM ${schema}.escalations
        WHERE id = $1 AND tenant_id = $2 AND status = 'PENDING'`,
      [input.escalationId, scope.tenantId],
    );
    if (found.rows[0]?.agent_id === input.approverId) {
      throw new ApprovalForbiddenError(
        input.escalationId,
        input.approverId,
        EmbeddedGatewayMessages.selfApproval(input.approverId),
      );
    }
  }
  return null;
}

/**
 * The answer on the row, and the notification (sent on commit). The row keeps
 * caller_waiting false once an approval became a grant, so that the holder,
 * if it was alive after all, answers its waiting caller with the retry.
 */
async function storeOutcome(
  client: PgPoolClient,
  scope: EndingScope,
  row: EndedRow,
  response: GatewayResponse,
  callerWaiting: boolean,
): Promise<void> {
  await client.query(
    `WITH stored AS (
        UPDATE ${scope.context.schema}.escalations
           SET outcome = $3::jsonb, outcome_event_id = $4, caller_waiting = $5
         WHERE id = $1 AND tenant_id = $2
        RETURNING id)
      SELECT pg_notify($6, $7) FROM stored`,
    [
      row.id,
      scope.tenantId,
      JSON.stringify(response),
      response.eventId,
      callerWaiting,
      scope.channel,
      notifyPayload(row.id, row.status as EscalationStatus),
    ],
  );
}

function prefixed(alias: string, columns: string): string {
  return columns
    .split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}
