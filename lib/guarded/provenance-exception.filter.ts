import {
  Catch,
  HttpStatus,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApprovalForbiddenError,
  EscalationLimitError,
  EscalationNotFoundError,
  EscalationTimeoutError,
  GatewayError,
  GrantNotFoundError,
  PolicyBlockedError,
  ReviewInputError,
} from '../protocol/provenance.errors';
import { GuardedMessages } from '../protocol/provenance.messages';
import { ExceptionFilterMessages } from './provenance-exception.messages';

/** The JSON body of a refused call. No gateway URL, no parameters: only what the caller may know. */
export interface ProvenanceErrorResponse {
  statusCode: number;
  error: string;
  message: string;
  decision: 'BLOCK' | null;
  action: string | null;
  reason: string | null;
  eventId: string | null;
  escalationId: string | null;
}

/**
 * Turns a refused call into an HTTP answer instead of a 500:
 * - `PolicyBlockedError` (a BLOCK, or a human rejected it): 403 with the decision, reason and event id;
 * - `EscalationTimeoutError` (no human decided in time): 403, decision BLOCK;
 * - `GatewayError` (no decision could be had): 503, without the gateway's address;
 * - `EscalationLimitError` (too many calls already held for a human): 429, nothing held or run;
 * and a `ProvenanceReviewer`'s errors, when a controller of yours approves or rejects:
 * - `EscalationNotFoundError` (unknown, or already decided or expired): 404;
 * - `GrantNotFoundError` (revokeGrant of a grant that is not active): 404;
 * - `ReviewInputError` (no approver, no escalation id, a reason that is not text): 400;
 * - `ApprovalForbiddenError` (four eyes: the agent approving its own call): 403.
 * Opt-in: `app.useGlobalFilters(new ProvenanceExceptionFilter())`, or
 * `{ provide: APP_FILTER, useClass: ProvenanceExceptionFilter }`, or `@UseFilters()`.
 * Only HTTP contexts are answered; elsewhere the error is thrown on.
 */
@Catch(
  PolicyBlockedError,
  EscalationTimeoutError,
  EscalationLimitError,
  GatewayError,
  EscalationNotFoundError,
  GrantNotFoundError,
  ReviewInputError,
  ApprovalForbiddenError,
)
export class ProvenanceExceptionFilter implements ExceptionFilter {
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const body = toResponse(exception);
    const response = host.switchToHttp().getResponse();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) {
      adapter.reply(response, body, body.statusCode);
      return;
    }
    // Registered with `new` outside DI: answer through the response object itself.
    const res = response as {
      code?: (s: number) => { send: (b: unknown) => void };
      status?: (s: number) => { json: (b: unknown) => void };
    };
    if (typeof res.code === 'function') res.code(body.statusCode).send(body);
    else if (typeof res.status === 'function') res.status(body.statusCode).json(body);
  }
}

export function toResponse(exception: unknown): ProvenanceErrorResponse {
  const review = reviewResponse(exception);
  if (review !== null) return review;
  if (exception instanceof PolicyBlockedError || exception instanceof EscalationTimeoutError) {
    const expired = exception instanceof EscalationTimeoutError;
    return {
      statusCode: HttpStatus.FORBIDDEN,
      error: 'Forbidden',
      message: expired
        ? GuardedMessages.expiredResponse(exception.action)
        : GuardedMessages.blockedResponse(exception.action),
      decision: 'BLOCK',
      action: exception.action,
      reason: exception.reason,
      eventId: exception.eventId,
      escalationId: exception.escalationId,
    };
  }
  if (exception instanceof EscalationLimitError) {
    return {
      ...answer(
        HttpStatus.TOO_MANY_REQUESTS,
        'Too Many Requests',
        ExceptionFilterMessages.escalationLimit(exception.action),
      ),
      action: exception.action,
    };
  }
  return answer(
    HttpStatus.SERVICE_UNAVAILABLE,
    'Service Unavailable',
    GuardedMessages.gatewayUnavailableResponse(),
  );
}

/** An answer that names no decision, call or event (the caller adds what it may know). */
function answer(statusCode: number, error: string, message: string): ProvenanceErrorResponse {
  return {
    statusCode,
    error,
    message,
    decision: null,
    action: null,
    reason: null,
    eventId: null,
    escalationId: null,
  };
}

/** A reviewer's error as its 4xx answer; null for any other error. */
function reviewResponse(exception: unknown): ProvenanceErrorResponse | null {
  if (exception instanceof EscalationNotFoundError) {
    return {
      ...answer(
        HttpStatus.NOT_FOUND,
        'Not Found',
        ExceptionFilterMessages.escalationNotFound(exception.escalationId),
      ),
      escalationId: exception.escalationId,
    };
  }
  if (exception instanceof GrantNotFoundError) {
    return answer(
      HttpStatus.NOT_FOUND,
      'Not Found',
      ExceptionFilterMessages.grantNotFound(exception.grantId),
    );
  }
  if (exception instanceof ReviewInputError) {
    return answer(
      HttpStatus.BAD_REQUEST,
      'Bad Request',
      ExceptionFilterMessages.badReviewInput(exception.field),
    );
  }
  if (exception instanceof ApprovalForbiddenError) {
    return {
      ...answer(HttpStatus.FORBIDDEN, 'Forbidden', ExceptionFilterMessages.approvalForbidden()),
      escalationId: exception.escalationId,
    };
  }
  return null;
}
