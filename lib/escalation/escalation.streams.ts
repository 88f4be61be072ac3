import { Observable, concat, defer, from } from 'rxjs';
import type { ProvenanceGateway } from '../gateway/provenance.gateway';
import type { EscalationEvent } from '../protocol/escalation-event';

/**
 * `gateway.escalations$` for a subscriber that arrives late: first a
 * `pending` event for every escalation of this gateway still waiting for a
 * human, then the live stream. The snapshot is taken at subscription time and
 * the live stream is subscribed synchronously right after it, on the one JS
 * thread, so no step falls in between and none is seen twice. Completes when
 * the gateway closes (at once if it already has).
 */
export function escalationsWithPending$(gateway: ProvenanceGateway): Observable<EscalationEvent> {
  return defer(() =>
    concat(
      from(gateway.pendingEscalationEvents().map((event) => ({ ...event }))),
      gateway.escalations$,
    ),
  );
}
