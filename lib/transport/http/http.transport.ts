import axios from 'axios';
import { HttpService } from '@nestjs/axios';
import { Observable, exhaustMap, from, lastValueFrom, timer, type Subscription } from 'rxjs';
import { Decision } from '../../protocol/decision';
import type { EscalationEvent } from '../../protocol/escalation-event';
import type {
  EscalationRecord,
  EscalationTicket,
  GatewayEvent,
  GatewayRequest,
  GatewayResponse,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../../protocol/gateway.types';
import type { GrantInput, GrantRecord } from '../../protocol/grant.types';
import {
  ApprovalForbiddenError,
  EscalationNotFoundError,
  GrantNotFoundError,
} from '../../protocol/provenance.errors';
import { fromWireGrant, fromWireGrantList, toWireGrantRequest } from '../../protocol/wire-grants';
import {
  fromWireDecideResponse,
  fromWireEscalationAccepted,
  fromWireEscalationList,
  fromWireResponse,
  toWireDecideRequest,
} from '../../protocol/wire';
import { EscalationFeed } from '../escalation-feed';
import {
  GatewayTransport,
  type PendingFilter,
  type TransportCallOptions,
} from '../gateway-transport';
import { waitForDecision } from './escalation-wait';
import { detachOrWait } from './escalation-detach';
import {
  checkTransportOptions,
  displayUrl,
  parseGatewayUrl,
  type HttpTransportOptions,
} from './http-transport.options';
import { AxiosHttpClient } from './axios-http.client';
import { executeBodyText } from './execute-body';
import { HttpExchange, RESPOND_ASYNC, type Exchanged } from './http.exchange';
import { NodeHttpClient } from './node-http.client';
import { protocolError, statusError } from './http.errors';
import { RemoteAuditReader } from './remote-audit-reader';

const DEFAULT_MAX_ESCALATION_WAIT = 15 * 60_000;

/**
 * Talks to a remote Provenance gateway over the wire protocol
 * (docs/protocol.md). A remote gateway is seen only through this process's
 * own calls, so the transport keeps their escalations itself: announced when
 * the server says the call is held (202, or the final answer of a reference
 * server, which holds the request), ended with the final answer, and dropped
 * from the pending list when the caller stops waiting.
 */
export class HttpTransport extends GatewayTransport {
  readonly kind = 'http' as const;
  readonly target: string;
  readonly audit = new RemoteAuditReader(() => this.exchange);
  readonly escalations$: Observable<EscalationEvent>;
  private readonly exchange: HttpExchange;
  private readonly feed = new EscalationFeed({ trackPending: true });
  private readonly asyncEscalation: boolean;
  private readonly maxEscalationWait: number;

  constructor(options: HttpTransportOptions) {
    super();
    const url = parseGatewayUrl(options.gatewayUrl);
    checkTransportOptions(options, url);
    this.target = displayUrl(url);
    const client =
      options.httpClient === 'node'
        ? new NodeHttpClient(url)
        : new AxiosHttpClient(
            options.httpService ?? new HttpService(axios.create()),
            displayUrl(url, true),
          );
    this.exchange = new HttpExchange(this.target, options.apiKey, options.timeout, client);
    this.asyncEscalation = options.asyncEscalation ?? true;
    this.maxEscalationWait = options.maxEscalationWait ?? DEFAULT_MAX_ESCALATION_WAIT;
    this.escalations$ = this.feed.events$;
  }

  execute(request: GatewayRequest, options?: TransportCallOptions): Observable<GatewayEvent> {
    // A deferred call needs the escalation id at once: it asks for a 202 whatever asyncEscalation says.
    const deferred = options?.deferred === true;
    const respondAsync = this.asyncEscalation || deferred;
    // Hand-written rather than an operator chain, and the first exchange by
    // callbacks rather than an Observable of its own: this runs once per gated call.
    return new Observable<GatewayEvent>((subscriber) => {
      let heldId: string | null = null;
      let decided = false;
      let wait: Subscription | null = null;
      let detached = false;
      const onEvent = (event: GatewayEvent): void => {
        if (event.type === 'escalated') {
          heldId = event.escalation.escalationId;
          this.feed.publish(pendingEvent(request, event.escalation));
        } else {
          decided = true;
          if (event.response.escalationId !== null) this.escalationEnded(request, event.response);
        }
        subscriber.next(event);
      };
      const onError = (error: unknown): void => subscriber.error(error);
      const onAnswer = (exchanged: Exchanged): void => {
        let ticket: EscalationTicket | null;
        try {
          ticket = this.firstAnswer(exchanged, request, respondAsync, onEvent);
        } catch (error) {
          onError(error);
          return;
        }
        if (ticket === null) {
          subscriber.complete();
          return;
        }
        const { escalationId } = ticket;
        const waited = deferred
          ? detachOrWait(this.exchange, escalationId, this.maxEscalationWait)
          : waitForDecision(this.exchange, escalationId, this.maxEscalationWait);
        wait = waited.subscribe({
          next: onEvent,
          error: onError,
          complete: () => {
            // Detached: the hold stays pending at the gateway; this process will not see its end.
            if (deferred && !decided) {
              detached = true;
              this.feed.forget(escalationId);
            }
            subscriber.complete();
          },
        });
      };
      const cancel = this.exchange.start(
        'POST',
        '/v1/gateway/execute',
        {
          body: executeBodyText(request),
          headers: respondAsync ? RESPOND_ASYNC : undefined,
        },
        this.exchange.timeoutMs,
        onAnswer,
        onError,
      );
      return () => {
        cancel();
        wait?.unsubscribe();
        // The caller stopped waiting on a held call: withdraw it at the
        // gateway, so that no one approves a call that will never run.
        if (!decided && !detached && heldId !== null) this.withdraw(heldId);
      };
    });
  }

  pendingEscalations(): EscalationEvent[] {
    return this.feed.pending();
  }

  async pending(filter: PendingFilter = {}): Promise<EscalationRecord[]> {
    const params: Record<string, string | number> = { offset: 0, limit: 100 };
    if (filter.tenantId !== undefined) params.tenant_id = filter.tenantId;
    const { ctx, response } = await lastValueFrom(
      this.exchange.request('GET', '/v1/escalations/pending', { params }),
    );
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    const records = this.exchange.parse(ctx, response, fromWireEscalationList);
    // A server may ignore tenant_id; the filter holds either way.
    return filter.tenantId === undefined
      ? records
      : records.filter((record) => record.tenantId === filter.tenantId);
  }

  watchPending(filter: PendingFilter, pollInterval: number): Observable<EscalationRecord[]> {
    // exhaustMap: a slow answer is never overtaken by the next poll, and polls never pile up.
    return timer(0, pollInterval).pipe(exhaustMap(() => from(this.pending(filter))));
  }

  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    const path = `/v1/escalations/${encodeURIComponent(escalationId)}/decide`;
    const data = toWireDecideRequest(verdict, input.approverId, input.reason);
    const { ctx, response } = await lastValueFrom(this.exchange.request('POST', path, { data }));
    if (response.status === 404) throw new EscalationNotFoundError(escalationId);
    if (response.status === 403) {
      throw new ApprovalForbiddenError(escalationId, input.approverId, detailOf(response.text));
    }
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.exchange.parse(ctx, response, (body) =>
      fromWireDecideResponse(body, { escalationId, verdict }),
    );
  }

  /** The wire protocol has no route for it: the gateway service logs the refusal instead. */
  async recordRefusal(): Promise<string | null> {
    return null;
  }

  /** `POST /v1/grants` with this transport's (reviewer) key; the gateway records its principal as `grantedBy`. */
  async grant(input: GrantInput, grantedBy: string): Promise<GrantRecord> {
    const data = { ...toWireGrantRequest(input), granted_by: grantedBy };
    const { ctx, response } = await lastValueFrom(
      this.exchange.request('POST', '/v1/grants', { data }),
    );
    if (response.status === 403) {
      throw new ApprovalForbiddenError(null, grantedBy, detailOf(response.text));
    }
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.exchange.parse(ctx, response, (body) => fromWireGrant(body));
  }

  async revokeGrant(grantId: string, revokedBy: string): Promise<GrantRecord> {
    const path = `/v1/grants/${encodeURIComponent(grantId)}/revoke`;
    const { ctx, response } = await lastValueFrom(
      this.exchange.request('POST', path, { data: { revoked_by: revokedBy } }),
    );
    if (response.status === 404) throw new GrantNotFoundError(grantId, detailOf(response.text));
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.exchange.parse(ctx, response, (body) => fromWireGrant(body));
  }

  async grants(): Promise<GrantRecord[]> {
    const { ctx, response } = await lastValueFrom(this.exchange.request('GET', '/v1/grants', {}));
    if (response.status !== 200) throw statusError(ctx, response.status, response.text);
    return this.exchange.parse(ctx, response, fromWireGrantList);
  }

  async close(): Promise<void> {
    this.exchange.close();
    this.feed.complete();
  }

  /**
   * The answer to `POST /v1/gateway/execute`: a decision (emitted; returns
   * null), or a 202 ticket to wait on (announced; returned). Throws a
   * GatewayError for anything else.
   */
  private firstAnswer(
    { ctx, response }: Exchanged,
    request: GatewayRequest,
    respondAsync: boolean,
    emit: (event: GatewayEvent) => void,
  ): EscalationTicket | null {
    if (response.status === 200) {
      emit({ type: 'decided', response: this.exchange.parse(ctx, response, fromWireResponse) });
      return null;
    }
    if (response.status === 202 && respondAsync) {
      const accepted = this.exchange.parse(ctx, response, fromWireEscalationAccepted);
      const ticket: EscalationTicket = {
        escalationId: accepted.escalation_id,
        action: request.action,
        agentId: request.agentId,
        sessionId: request.sessionId,
        parameters: request.parameters ?? null,
        reason: accepted.reason ?? '',
        createdAt: accepted.created_at ?? new Date().toISOString(),
        expiresAt: accepted.expires_at ?? null,
      };
      emit({ type: 'escalated', escalation: ticket });
      return ticket;
    }
    if (response.status >= 200 && response.status < 300) {
      throw protocolError(
        ctx,
        `the gateway answered ${response.status}, not 200 with a decision`,
        response.status,
      );
    }
    throw statusError(ctx, response.status, response.text);
  }

  /**
   * Best effort, after the caller left: a gateway without the route (a
   * reference server) keeps the hold until it expires; nothing waits here.
   */
  private withdraw(escalationId: string): void {
    const pending = this.feed.get(escalationId);
    if (pending !== undefined) {
      this.feed.publish({ ...pending, type: 'withdrawn', decidedAt: new Date().toISOString() });
    }
    const path = `/v1/escalations/${encodeURIComponent(escalationId)}/withdraw`;
    this.exchange.request('POST', path, { data: {} }).subscribe({ error: () => undefined });
  }

  private escalationEnded(request: GatewayRequest, response: GatewayResponse): void {
    const id = response.escalationId as string;
    const type =
      response.decision === Decision.ALLOW
        ? 'approved'
        : response.escalationOutcome === 'expired' || response.escalationOutcome === 'withdrawn'
          ? response.escalationOutcome
          : 'rejected';
    this.feed.publish({
      type,
      escalationId: id,
      action: request.action,
      parameters: request.parameters,
      agentId: request.agentId,
      sessionId: request.sessionId,
      createdAt: this.feed.get(id)?.createdAt ?? null,
      decidedAt: new Date().toISOString(),
      approverId: response.actorHumanId,
      reason: response.reason,
    });
  }
}

function pendingEvent(request: GatewayRequest, ticket: EscalationTicket): EscalationEvent {
  return {
    type: 'pending',
    escalationId: ticket.escalationId,
    action: request.action,
    parameters: request.parameters,
    agentId: request.agentId,
    sessionId: request.sessionId,
    createdAt: ticket.createdAt,
    decidedAt: null,
    approverId: null,
    reason: ticket.reason,
  };
}
export type { HttpTransportOptions } from './http-transport.options';

/** The message of a reference-style error body (`{"detail":{"message":…}}`), or a generic one. */
function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: { message?: unknown } | string };
    const detail = body.detail;
    if (typeof detail === 'string') return detail;
    if (typeof detail?.message === 'string') return detail.message;
  } catch {
    // not JSON
  }
  return 'the gateway refused this review decision (403)';
}
