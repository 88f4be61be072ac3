import { Observable, EMPTY, catchError, switchMap, throwError } from 'rxjs';
import type { GatewayEvent } from '../../protocol/gateway.types';
import { GatewayError } from '../../protocol/provenance.errors';
import type { HttpExchange } from './http.exchange';
import { escalationWaitError, statusError } from './http.errors';
import { waitForDecision } from './escalation-wait';

/**
 * A deferred call after its 202: `POST /v1/escalations/{id}/detach` tells the
 * gateway that the caller stops waiting without withdrawing (the hold stays
 * for a reviewer; an approval becomes a single-use grant for the identical
 * call). Completes with no event when detached. A 404 means the hold already
 * ended (or the gateway has no such route): the call then waits for its
 * final answer at `/wait`, as an ordinary one. Any other failure is a
 * GatewayError that never fails open: the call was escalated.
 */
export function detachOrWait(
  exchange: HttpExchange,
  escalationId: string,
  maxWait: number,
): Observable<GatewayEvent> {
  const path = `/v1/escalations/${encodeURIComponent(escalationId)}/detach`;
  return exchange.request('POST', path, { data: {} }).pipe(
    catchError((error: unknown) =>
      throwError(() =>
        error instanceof GatewayError
          ? escalationWaitError(exchange.context('POST', path), escalationId, error)
          : error,
      ),
    ),
    switchMap(({ ctx, response }) => {
      if (response.status === 200) return EMPTY;
      if (response.status === 404) return waitForDecision(exchange, escalationId, maxWait);
      const error = statusError(ctx, response.status, response.text);
      throw escalationWaitError(ctx, escalationId, error);
    }),
  );
}
