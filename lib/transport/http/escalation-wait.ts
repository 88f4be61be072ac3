import { Observable, catchError, defer, map, of, retry, switchMap, throwError, timer } from 'rxjs';
import type { GatewayEvent } from '../../protocol/gateway.types';
import { GatewayError } from '../../protocol/provenance.errors';
import { escalationOutcomeOf, fromWireResponse } from '../../protocol/wire';
import type { HttpExchange } from './http.exchange';
import { escalationWaitError, protocolError, statusError } from './http.errors';

/** One long poll asks the server to hold at most this long (below common proxy idle limits). */
const MAX_POLL_MS = 25_000;
/** Long polls are safe to repeat: a lost poll is retried this many times before the wait fails. */
const POLL_RETRIES = 3;
const POLL_RETRY_DELAY_MS = 500;

/**
 * After a 202 (the async-escalation extension, docs/protocol.md): long-polls
 * `GET /v1/escalations/{id}/wait` until the server answers 200 with the final
 * decision, for at most `maxWait` ms in all. Unsubscribing stops the current
 * poll and schedules no other.
 */
export function waitForDecision(
  exchange: HttpExchange,
  escalationId: string,
  maxWait: number,
): Observable<GatewayEvent> {
  const deadline = Date.now() + maxWait;
  const path = `/v1/escalations/${encodeURIComponent(escalationId)}/wait`;
  const poll = (): Observable<GatewayEvent> =>
    defer(() => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        return throwError(
          () =>
            new GatewayError(
              `no human decision on escalation ${escalationId} within ${maxWait} ms (maxEscalationWait)`,
              { url: exchange.context('GET', path).url, kind: 'timeout' },
            ),
        );
      }
      const holdMs = Math.min(MAX_POLL_MS, remaining);
      return exchange
        .request('GET', path, { params: { timeout_ms: holdMs } }, exchange.timeoutMs + holdMs)
        .pipe(
          // A 5xx answer to a poll is a lost poll too: raise it here so that it is retried.
          map((exchanged) => {
            const { status, text } = exchanged.response;
            if (status >= 500) throw statusError(exchanged.ctx, status, text);
            return exchanged;
          }),
          retry({
            count: POLL_RETRIES,
            // A poll is a GET that decides nothing, so repeating it is safe even when
            // the connection broke after it was sent (interrupted), unlike an execute.
            delay: (error: unknown) =>
              error instanceof GatewayError &&
              (error.failOpenEligible || error.kind === 'interrupted')
                ? timer(POLL_RETRY_DELAY_MS)
                : throwError(() => error),
          }),
          switchMap(({ ctx, response }) => {
            if (response.status === 204) return poll();
            if (response.status === 404) {
              // A gateway that restarted forgets in-memory holds: no decision will come.
              throw new GatewayError(
                `the gateway no longer knows escalation ${escalationId} (404 on ${ctx.url}); no human decision will arrive`,
                { url: ctx.url, kind: 'status', status: 404 },
              );
            }
            if (response.status !== 200) throw statusError(ctx, response.status, response.text);
            const final = exchange.parse(ctx, response, fromWireResponse);
            if (final.escalationId !== null && final.escalationId !== escalationId) {
              throw protocolError(
                ctx,
                `the wait for escalation ${escalationId} answered for escalation ${final.escalationId}`,
                200,
              );
            }
            // Our server always names the escalation; fill it in where another one does not.
            return of<GatewayEvent>({
              type: 'decided',
              response: {
                ...final,
                escalationId,
                escalationOutcome: escalationOutcomeOf(final.decision, final.reason, escalationId),
              },
            });
          }),
        );
    });
  return poll().pipe(
    catchError((error: unknown) => {
      throw error instanceof GatewayError
        ? escalationWaitError(exchange.context('GET', path), escalationId, error)
        : error;
    }),
  );
}
