import {
  Catch,
  HttpStatus,
  Optional,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
} from '../protocol/provenance.errors';
import { GuardedMessages } from '../protocol/provenance.messages';

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
 * - `GatewayError` (no decision could be had): 503, without the gateway's address.
 * Opt-in: `app.useGlobalFilters(new ProvenanceExceptionFilter())`, or
 * `{ provide: APP_FILTER, useClass: ProvenanceExceptionFilter }`, or `@UseFilters()`.
 * Only HTTP contexts are answered; elsewhere the error is thrown on.
 */
@Catch(PolicyBlockedError, EscalationTimeoutError, GatewayError)
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
  return {
    statusCode: HttpStatus.SERVICE_UNAVAILABLE,
    error: 'Service Unavailable',
    message: GuardedMessages.gatewayUnavailableResponse(),
    decision: null,
    action: null,
    reason: null,
    eventId: null,
    escalationId: null,
  };
}
