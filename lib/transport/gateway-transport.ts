import type { Observable } from 'rxjs';
import type {
  EscalationRecord,
  GatewayEvent,
  GatewayRequest,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../protocol/gateway.types';

/**
 * The seam between the gateway service and a gateway. `execute` is cold: it
 * starts on subscribe, and unsubscribing abandons the call (an HTTP request is
 * aborted; an embedded hold stays for a human, nothing is approved). It emits
 * at most one `escalated` event, then exactly one `decided` event, then
 * completes; or it errors with a `GatewayError`.
 */
export abstract class GatewayTransport {
  /** `http` or `embedded`. */
  abstract readonly kind: 'http' | 'embedded';
  /** Where decisions come from, for messages: a URL, or `embedded`. Never a secret. */
  abstract readonly target: string;

  abstract execute(request: GatewayRequest): Observable<GatewayEvent>;

  abstract pending(options?: { tenantId?: string }): Promise<EscalationRecord[]>;

  abstract decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome>;

  /** Releases sockets, timers and files. Idempotent. */
  abstract close(): Promise<void>;
}
