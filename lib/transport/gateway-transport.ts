import type { Observable } from 'rxjs';
import type { AuditReader } from './audit-reader';
import type { EscalationEvent } from '../protocol/escalation-event';
import type { GrantInput, GrantRecord } from '../protocol/grant.types';
import type {
  EscalationRecord,
  GatewayEvent,
  GatewayRequest,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../protocol/gateway.types';

/** Which escalations a review call asks about. */
export interface PendingFilter {
  /** Only this tenant's (sent as `tenant_id` to a remote gateway). */
  tenantId?: string;
}

/** How one call is sent (see `GatewayTransport`, "A deferred call"). */
export interface TransportCallOptions {
  /** Detach a held call instead of waiting for its end: completes after `escalated`. */
  deferred?: boolean;
}

/**
 * The seam between the gateway service and whatever decides: the in-process
 * engine (`EmbeddedTransport`) or a remote gateway (`HttpTransport`). The
 * gateway service, the reviewer and the streams only ever talk to this
 * contract, so they are the same code whatever decides (see
 * docs/architecture.md, "Adding a transport").
 *
 * A call: `execute` is cold: it starts on subscribe, and unsubscribing
 * abandons the call (an HTTP request is aborted; nothing is approved). It
 * emits at most one `escalated` event, then exactly one `decided` event, then
 * completes; or it errors with a `GatewayError` (or the `ProvenanceError` that
 * refused the call). Unsubscribing after `escalated` and before `decided`
 * withdraws the escalation where the gateway allows it.
 *
 * A deferred call (`{ deferred: true }`, `ProvenanceGateway.executeDeferred`):
 * when the call is held, the transport stops waiting *without* withdrawing.
 * It detaches the hold (the gateway's `detach`: the escalation stays pending
 * for a reviewer, and an approval becomes a single-use grant for the
 * identical call) and only then emits `escalated` and completes, with no
 * `decided` event. When the hold can no longer be detached (it already
 * ended), the call goes on as an ordinary one to its `decided` event; a
 * failure to detach errors with a GatewayError that never fails open.
 *
 * An escalation's life: `escalations$` emits `pending` once for every
 * escalation the transport learns of, then exactly one ending (`approved`,
 * `rejected`, `expired`); `pendingEscalations()` is the snapshot of those
 * still pending. What a transport can learn differs: the engine knows every
 * escalation it holds, including calls whose caller stopped waiting; a remote
 * gateway is only seen through this process's own calls.
 */
export abstract class GatewayTransport {
  /** `http` or `embedded`. */
  abstract readonly kind: 'http' | 'embedded';
  /** Where decisions come from, for messages: a URL, or `embedded gateway`. Never a secret. */
  abstract readonly target: string;
  /**
   * A hot stream of escalation steps, in order; completes when the transport
   * closes (after the endings that closing causes).
   */
  abstract readonly escalations$: Observable<EscalationEvent>;
  /**
   * The audit trail, read where the gateway keeps it: the engine's AuditLog,
   * or a remote gateway's audit API (RemoteAuditReader), in the same shapes.
   */
  abstract readonly audit: AuditReader;

  abstract execute(
    request: GatewayRequest,
    options?: TransportCallOptions,
  ): Observable<GatewayEvent>;

  /** The escalations of `escalations$` still pending, oldest first, as `pending` events. */
  abstract pendingEscalations(): EscalationEvent[];

  /** Every escalation the gateway holds for a human now (all of the tenant's, not only this process's). */
  abstract pending(filter?: PendingFilter): Promise<EscalationRecord[]>;

  /**
   * `pending()` as a live list: emitted at once, then whenever it may have
   * changed (pushed by the engine; polled every `pollInterval` ms from a
   * remote gateway). May emit equal lists; the reviewer drops repeats.
   */
  abstract watchPending(
    filter: PendingFilter,
    pollInterval: number,
  ): Observable<EscalationRecord[]>;

  abstract decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome>;

  /**
   * Records that a decided call was refused before its body ran (its
   * arguments changed). Resolves with the event id, or null where the
   * gateway has no way to record it (a remote one).
   */
  abstract recordRefusal(request: GatewayRequest, reason: string): Promise<string | null>;

  /** A standing grant (docs/security.md, "Grants"), given by `grantedBy`. */
  abstract grant(input: GrantInput, grantedBy: string): Promise<GrantRecord>;

  abstract revokeGrant(grantId: string, revokedBy: string): Promise<GrantRecord>;

  /** The active grants of the gateway. */
  abstract grants(): Promise<GrantRecord[]>;

  /** Releases sockets, timers and files; ends held calls; completes `escalations$`. Idempotent. */
  abstract close(): Promise<void>;
}
