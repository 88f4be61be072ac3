import { actionRuleBrokenBy, isValidAction } from '../protocol/action';
import { acceptParameters } from '../protocol/call-parameters';
import type { GatewayRequest, ReviewInput, ReviewVerdict } from '../protocol/gateway.types';
import { EscalationError, InvalidParametersError } from '../protocol/provenance.errors';
import { EmbeddedGatewayMessages } from './engine.messages';

/*
 * The engine's public edge: what `execute()` and `decide()` accept from a
 * caller that is not the gateway service (the engine API, the server's
 * parsed bodies). The gateway service has checked the same already.
 */

/**
 * Throws for a request that cannot be evaluated; returns its parameters
 * normalised by the one walker (lib/protocol): the value the gateway service
 * normalised is trusted as it is, anything else (this public API, the
 * server's parsed bodies) is walked now, under the same rules and depth limit.
 */
export function acceptRequest(request: GatewayRequest): Record<string, unknown> | null {
  const action = (request as Partial<GatewayRequest> | null)?.action;
  if (!isValidAction(action)) {
    throw new InvalidParametersError(
      String(action),
      'action',
      EmbeddedGatewayMessages.badField('action', actionRuleBrokenBy(action)),
    );
  }
  for (const field of ['sessionId', 'agentId'] as const) {
    if (typeof request[field] !== 'string') {
      throw new InvalidParametersError(
        action,
        field,
        EmbeddedGatewayMessages.badField(field, 'a string'),
      );
    }
  }
  const parameters = request.parameters ?? null;
  if (parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters))) {
    throw new InvalidParametersError(
      action,
      'parameters',
      EmbeddedGatewayMessages.badField('parameters', 'an object or null'),
    );
  }
  return parameters === null ? null : acceptParameters(action, parameters);
}

/** A review decision's own fields: the verdict word and a non-empty approver. */
export function checkReview(
  escalationId: string,
  verdict: ReviewVerdict,
  input: ReviewInput,
): void {
  if (verdict !== 'APPROVE' && verdict !== 'REJECT') {
    throw new EscalationError(
      EmbeddedGatewayMessages.badField('decision', "'APPROVE' or 'REJECT'"),
      { escalationId },
    );
  }
  if (typeof input?.approverId !== 'string' || input.approverId === '') {
    throw new EscalationError(
      EmbeddedGatewayMessages.badField('approverId', 'a non-empty string'),
      { escalationId },
    );
  }
}
