import { Decision } from '../protocol/decision';
import { ExecutionResult } from '../protocol/execution-result';
import type { EscalationTicket, GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import {
  EscalationError,
  EscalationRejectedError,
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
} from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';

/** The interim result while a human decides: decision ESCALATE, with the escalation id. */
export function escalatedResult(
  request: GatewayRequest,
  ticket: EscalationTicket,
): ExecutionResult {
  return new ExecutionResult({
    decision: Decision.ESCALATE,
    reason: ticket.reason,
    action: request.action,
    eventId: null,
    sessionId: request.sessionId,
    escalationId: ticket.escalationId,
  });
}

/**
 * Reads a final answer. Only an explicit ALLOW returns; a BLOCK throws the
 * error that says why (timeout, rejection, policy), anything else a
 * GatewayError or EscalationError. `blocked` sees a BLOCK result before it is
 * thrown, so that the session records it.
 */
export function finalResult(
  request: GatewayRequest,
  response: GatewayResponse,
  target: string,
  blocked: (result: ExecutionResult) => void,
): ExecutionResult {
  const result = new ExecutionResult({
    decision: response.decision,
    reason: response.reason,
    action: request.action,
    eventId: response.eventId,
    sessionId: request.sessionId,
    escalationId: response.escalationId,
    actorHumanId: response.actorHumanId,
    approverReason: response.approverReason ?? null,
  });
  if (response.decision === Decision.ALLOW) return result;
  if (response.decision === Decision.BLOCK) {
    blocked(result);
    if (response.escalationId !== null && response.escalationOutcome === 'expired') {
      throw new EscalationTimeoutError(result);
    }
    if (response.escalationId !== null) throw new EscalationRejectedError(result);
    throw new PolicyBlockedError(result);
  }
  if (response.decision === Decision.ESCALATE) {
    throw new EscalationError(Messages.finalEscalate(request.action), {
      action: request.action,
      escalationId: response.escalationId,
    });
  }
  throw new GatewayError(`Gateway at ${target} answered an unknown decision`, {
    url: target,
    kind: 'protocol',
  });
}

/** The ALLOW that `onGatewayError: 'open'` gives a call whose gateway could not be reached. */
export function failedOpenResult(request: GatewayRequest, error: GatewayError): ExecutionResult {
  return new ExecutionResult({
    decision: Decision.ALLOW,
    reason: Messages.failedOpenReason(
      error.kind === 'status' ? `HTTP ${error.status}` : error.kind,
    ),
    action: request.action,
    eventId: null,
    sessionId: request.sessionId,
    failedOpen: true,
  });
}
