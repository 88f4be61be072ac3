import { Injectable } from '@nestjs/common';
import {
  Observable,
  defer,
  distinctUntilChanged,
  endWith,
  ignoreElements,
  ReplaySubject,
  share,
  takeUntil,
} from 'rxjs';
import {
  ProvenanceConfigError,
  ProvenanceError,
  ReviewInputError,
} from '../protocol/provenance.errors';
import { ReviewerMessages } from '../protocol/provenance.messages';
import { isValidIdentity } from '../protocol/identity';
import type { ProvenanceGateway } from '../gateway/provenance.gateway';
import type {
  EscalationRecord,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../protocol/gateway.types';
import type { GatewayTransport, PendingFilter } from '../transport/gateway-transport';
import { HttpTransport } from '../transport/http/http.transport';
import type { GrantInput, GrantRecord } from '../protocol/grant.types';
import type { EscalationEvent } from '../protocol/escalation-event';
import { EscalationMessages } from './escalation.messages';
import { escalationsWithPending$ } from './escalation.streams';

export interface ProvenanceReviewerOptions {
  /**
   * Against a remote gateway, `pending$` asks `GET /v1/escalations/pending`
   * this often, in ms. Default 2000. (The embedded gateway pushes; no polling.)
   */
  pollInterval?: number;
  /** Only this tenant's escalations (sent as `tenant_id` to a remote gateway). */
  tenantId?: string;
  /**
   * Against a remote gateway whose keys have roles (ours): a **reviewer** key
   * for listing, deciding and granting. The agent's own key cannot decide
   * there (403), so without this the reviewer can only watch. Never logged.
   */
  apiKey?: string;
}

export const DEFAULT_REVIEWER_POLL_INTERVAL = 2_000;

/**
 * The human side of an escalation: list what waits for a decision, watch it
 * change, approve or reject. Works on the gateway's transport, so the same
 * code reviews the embedded gateway and a remote one.
 *
 * Without Nest: `new ProvenanceReviewer(gateway, { pollInterval: 1000 })`.
 */
@Injectable()
export class ProvenanceReviewer {
  /**
   * The escalations waiting for a human, as a list that is emitted again
   * whenever it changes: at once on subscribe, then live from the embedded
   * gateway, or by polling a remote one every `pollInterval` ms (a list equal
   * to the last one is not emitted again). Subscribers share one poller; the
   * poll stops, and no timer is left, when the last one unsubscribes.
   * Completes when the gateway closes; a failed poll errors the stream
   * (with the GatewayError), so add `retry()` for a dashboard that should outlive an outage.
   */
  readonly pending$: Observable<EscalationRecord[]>;

  /**
   * `gateway.escalations$` for late subscribers: a `pending` event for each
   * escalation raised through this gateway that is still waiting, then every
   * later step. (Escalations raised by other apps of a remote gateway are not
   * here: use `pending$`.)
   */
  readonly escalations$: Observable<EscalationEvent>;

  readonly pollInterval: number;
  readonly tenantId: string | null;
  /** The HTTP transport with the reviewer's key, when `apiKey` is set; else calls go to the gateway's own. */
  private readonly ownTransport: GatewayTransport | null = null;

  constructor(
    private readonly gateway: ProvenanceGateway,
    options: ProvenanceReviewerOptions = {},
  ) {
    const { pollInterval, tenantId, apiKey } = options ?? {};
    if (
      pollInterval !== undefined &&
      (typeof pollInterval !== 'number' || !Number.isInteger(pollInterval) || pollInterval < 1)
    ) {
      throw new ProvenanceConfigError(
        'reviewer.pollInterval',
        ReviewerMessages.badOption(
          'reviewer.pollInterval',
          'a positive whole number of milliseconds',
          pollInterval,
        ),
      );
    }
    if (tenantId !== undefined && (typeof tenantId !== 'string' || tenantId === '')) {
      throw new ProvenanceConfigError(
        'reviewer.tenantId',
        ReviewerMessages.badOption('reviewer.tenantId', 'a non-empty string', tenantId),
      );
    }
    this.pollInterval = pollInterval ?? DEFAULT_REVIEWER_POLL_INTERVAL;
    this.tenantId = tenantId ?? null;
    // With a reviewer key, its transport is made (and its key checked) now, at start-up.
    // Otherwise the gateway's own transport is only read when first used, so a test double
    // given with overrideProvider(ProvenanceGateway) starts (see transport()).
    if (apiKey !== undefined) {
      const own = reviewTransport(gateway, apiKey);
      this.ownTransport = own;
      // Closed with the gateway: its escalations$ completes on close.
      gateway.escalations$.pipe(ignoreElements(), endWith(true)).subscribe(() => void own.close());
    }
    const closed$ = defer(() => gateway.escalations$).pipe(ignoreElements(), endWith(true));
    this.pending$ = defer(() =>
      this.transport('pending$').watchPending(this.filter(), this.pollInterval),
    ).pipe(
      distinctUntilChanged(sameRecords),
      takeUntil(closed$),
      // One poller for all subscribers, the last list for late ones; restarted (not replayed
      // stale) after it completed, failed, or lost its last subscriber.
      share({
        connector: () => new ReplaySubject<EscalationRecord[]>(1),
        resetOnComplete: true,
        resetOnError: true,
        resetOnRefCountZero: true,
      }),
    );
    this.escalations$ = escalationsWithPending$(gateway);
  }

  /** The escalations waiting for a human now, oldest first. */
  pending(): Promise<EscalationRecord[]> {
    return this.call('pending()', (review) => review.pending(this.filter()));
  }

  /**
   * Lets the held call through. Rejects with `EscalationNotFoundError` when
   * the id is unknown or the escalation already ended (decided or expired).
   */
  approve(escalationId: string, input: ReviewInput): Promise<ReviewOutcome> {
    return this.decide('approve', escalationId, 'APPROVE', input);
  }

  /** Blocks the held call (it raises `EscalationRejectedError`). Same errors as `approve`. */
  reject(escalationId: string, input: ReviewInput): Promise<ReviewOutcome> {
    return this.decide('reject', escalationId, 'REJECT', input);
  }

  /**
   * A standing approval: calls the policy would escalate that match it run
   * without a hold, `maxUses` times, until it expires — for example
   * `grant({ action: 'payments.initiate', conditions: [{ field: 'recipient_id',
   * operator: '==', value: 'rec_abc' }, { field: 'amount', operator: '<=',
   * value: 1000 }], sessionId, expiresInMs: 3_600_000, maxUses: 5, grantedBy:
   * 'cfo@example.com' })`. It never overrides a BLOCK. Given, used and revoked
   * grants are all audited. `grantedBy` may not be the agent it is for.
   */
  grant(input: GrantInput & { grantedBy: string }): Promise<GrantRecord> {
    const { grantedBy, ...grant } = input ?? ({} as GrantInput & { grantedBy: string });
    if (typeof grantedBy !== 'string' || grantedBy.trim() === '') {
      return Promise.reject(
        new ReviewInputError('grantedBy', ReviewerMessages.badApprover('grant', grantedBy)),
      );
    }
    return this.call('grant()', (review) => review.grant(grant, grantedBy));
  }

  /** Ends a grant before its time (`GrantNotFoundError` when it is not active); audited. */
  revokeGrant(grantId: string, input: { revokedBy: string }): Promise<GrantRecord> {
    const revokedBy = input?.revokedBy;
    if (typeof revokedBy !== 'string' || revokedBy.trim() === '') {
      return Promise.reject(
        new ReviewInputError('revokedBy', ReviewerMessages.badApprover('revoke', revokedBy)),
      );
    }
    return this.call('revokeGrant()', (review) => review.revokeGrant(grantId, revokedBy));
  }

  /** The gateway's active grants, oldest first. */
  grants(): Promise<GrantRecord[]> {
    return this.call('grants()', (review) => review.grants());
  }

  private async decide(
    verb: string,
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    if (typeof escalationId !== 'string' || escalationId === '') {
      throw new ReviewInputError(
        'escalationId',
        ReviewerMessages.badEscalationId(verb, escalationId),
      );
    }
    const approverId = (input as Partial<ReviewInput> | undefined)?.approverId;
    if (!isValidIdentity(approverId)) {
      throw new ReviewInputError('approverId', ReviewerMessages.badApprover(verb, approverId));
    }
    const reason = input.reason ?? null;
    if (reason !== null && typeof reason !== 'string') {
      throw new ReviewInputError('reason', ReviewerMessages.badReason(verb, reason));
    }
    return this.transport(`${verb}()`).decide(escalationId, verdict, { approverId, reason });
  }

  /**
   * Where review calls go: the reviewer key's transport, or the gateway's own,
   * read at each use (a gateway double without one is named, not a TypeError).
   */
  private transport(what: string): GatewayTransport {
    if (this.ownTransport !== null) return this.ownTransport;
    const transport = (this.gateway as Partial<ProvenanceGateway>).gatewayTransport;
    if (transport === undefined || transport === null) {
      throw new ProvenanceError(EscalationMessages.noTransport(what));
    }
    return transport;
  }

  /** `fn` on the transport, a missing one as a rejected promise like every other failure. */
  private call<T>(what: string, fn: (review: GatewayTransport) => Promise<T>): Promise<T> {
    try {
      return fn(this.transport(what));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private filter(): PendingFilter {
    return this.tenantId === null ? {} : { tenantId: this.tenantId };
  }
}

function sameRecords(a: EscalationRecord[], b: EscalationRecord[]): boolean {
  if (a.length !== b.length) return false;
  return a.every(
    (record, index) =>
      record.id === b[index].id &&
      record.status === b[index].status &&
      record.updatedAt === b[index].updatedAt,
  );
}

/** The gateway's transport, or (with a reviewer key) an HTTP transport to the same gateway with that key. */
function reviewTransport(gateway: ProvenanceGateway, apiKey: unknown): GatewayTransport {
  if (apiKey === undefined) return gateway.gatewayTransport;
  const { options } = gateway.client;
  if (options.mode !== 'http' || options.gatewayUrl === null) {
    throw new ProvenanceConfigError(
      'reviewer.apiKey',
      ReviewerMessages.badOption(
        'reviewer.apiKey',
        'left out with the embedded gateway (it has no keys)',
        '(a key)',
      ),
    );
  }
  if (typeof apiKey !== 'string' || apiKey === '') {
    throw new ProvenanceConfigError(
      'reviewer.apiKey',
      ReviewerMessages.badOption(
        'reviewer.apiKey',
        'a reviewer API key (pk_<env>_...)',
        typeof apiKey,
      ),
    );
  }
  return new HttpTransport({
    gatewayUrl: options.gatewayUrl,
    apiKey,
    timeout: options.timeout,
    asyncEscalation: options.asyncEscalation,
  });
}
