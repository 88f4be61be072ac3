import { Observable } from 'rxjs';
import type { AuditLog } from '../../engine/audit/audit-log';
import { createEngine, type EngineSetup } from '../../engine/engine.factory';
import type { ProvenanceEngine } from '../../engine/provenance-engine';
import { escalationEventFromRecord, type EscalationEvent } from '../../protocol/escalation-event';
import type {
  EscalationRecord,
  GatewayEvent,
  GatewayRequest,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from '../../protocol/gateway.types';
import type { GrantInput, GrantRecord } from '../../protocol/grant.types';
import { EscalationFeed } from '../escalation-feed';
import {
  GatewayTransport,
  type PendingFilter,
  type TransportCallOptions,
} from '../gateway-transport';
import {
  EMBEDDED_TARGET,
  EmbeddedCall,
  SettledEmbeddedCall,
  type CallSink,
  type SettledSink,
} from './embedded-call';

export { EMBEDDED_TARGET } from './embedded-call';

/**
 * Decisions from the in-process engine: no server, no socket. An escalation
 * is announced at once (`escalated`), then the call waits for the hold to end.
 * Unsubscribing stops waiting; the hold stays for a human and ends as usual.
 *
 * The engine knows every escalation's whole life (including calls whose
 * caller stopped waiting, and holds ended by shutdown), so its lifecycle
 * feeds `escalations$` and it keeps the pending list itself.
 */
export class EmbeddedTransport extends GatewayTransport {
  readonly kind = 'embedded' as const;
  readonly target = EMBEDDED_TARGET;
  readonly escalations$: Observable<EscalationEvent>;
  private readonly feed = new EscalationFeed({ trackPending: false });
  private readonly detach: () => void;
  private closing: Promise<void> | null = null;

  constructor(
    /** The engine that decides. */
    readonly engine: ProvenanceEngine,
    /** The engine's audit log, for listing and verification. */
    readonly audit: AuditLog,
  ) {
    super();
    this.escalations$ = this.feed.events$;
    this.detach = engine.onEscalation((event) =>
      this.feed.publish(escalationEventFromRecord(event.type, event.record)),
    );
  }

  /** @deprecated since 0.2: the engine is `engine`. */
  get gateway(): ProvenanceEngine {
    return this.engine;
  }

  execute(request: GatewayRequest, options?: TransportCallOptions): Observable<GatewayEvent> {
    return new Observable<GatewayEvent>((subscriber) =>
      this.executeInto(request, subscriber, options?.deferred === true),
    );
  }

  /**
   * The same call without an Observable of its own: its events go to `sink`,
   * and `unsubscribe()` of the answer stops waiting (a held call is
   * withdrawn; a `deferred` one is detached instead, see GatewayTransport). The gateway service uses it for its calls, since a call held
   * for a human keeps all of this for as long as the human takes.
   */
  executeInto(request: GatewayRequest, sink: CallSink, deferred = false): { unsubscribe(): void } {
    const call = new EmbeddedCall(this.engine, sink, deferred);
    // Bound methods: smaller than two closures and their context.
    this.engine.execute(request, call).then(call.decided.bind(call), call.failed.bind(call));
    return call;
  }

  /**
   * A call that is not deferred, answered by a promise of what `sink` settled
   * as once the engine answered (its `settlement()`): the promise the engine's
   * answer is chained to is the caller's, so a held call keeps no promise,
   * resolvers or sink besides. It cannot be abandoned.
   */
  executeSettled<T>(request: GatewayRequest, sink: SettledSink<T>): Promise<T> {
    const call = new SettledEmbeddedCall(this.engine, sink);
    const answer = this.engine.executeNowOrLater(request, call);
    if (answer instanceof Promise) {
      return answer.then(call.answered.bind(call), call.answerFailed.bind(call));
    }
    // Decided in this call (a memory audit store): settled now, answered by one promise.
    try {
      return Promise.resolve(call.answered(answer));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** This transport when its calls may go through `executeInto` (its `execute` not replaced), else null. */
  static direct(transport: GatewayTransport): EmbeddedTransport | null {
    return transport instanceof EmbeddedTransport &&
      transport.execute === EmbeddedTransport.prototype.execute
      ? transport
      : null;
  }

  pendingEscalations(): EscalationEvent[] {
    return this.engine.pending().map((record) => escalationEventFromRecord('pending', record));
  }

  async pending(filter: PendingFilter = {}): Promise<EscalationRecord[]> {
    return ofTenant(await this.engine.listPending(), filter);
  }

  watchPending(filter: PendingFilter): Observable<EscalationRecord[]> {
    return new Observable<EscalationRecord[]>((subscriber) => {
      // The holds call listeners after their map changed, so pending() is already up to date.
      const off = this.engine.onEscalation(() =>
        subscriber.next(ofTenant(this.engine.pending(), filter)),
      );
      subscriber.next(ofTenant(this.engine.pending(), filter));
      return off;
    });
  }

  async decide(
    escalationId: string,
    verdict: ReviewVerdict,
    input: ReviewInput,
  ): Promise<ReviewOutcome> {
    return this.engine.decide(escalationId, verdict, input);
  }

  recordRefusal(request: GatewayRequest, reason: string): Promise<string | null> {
    return this.engine.recordRefusal(request, reason);
  }

  grant(input: GrantInput, grantedBy: string): Promise<GrantRecord> {
    return this.engine.grant(input, grantedBy);
  }

  revokeGrant(grantId: string, revokedBy: string): Promise<GrantRecord> {
    return this.engine.revokeGrant(grantId, revokedBy);
  }

  async grants(): Promise<GrantRecord[]> {
    return this.engine.grants();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.feed.beginClose();
      try {
        // Held calls end as expired here; subscribers see those endings before completion.
        await this.engine.close();
      } finally {
        this.detach();
        this.feed.complete();
      }
    })();
    return this.closing;
  }
}

function ofTenant(records: EscalationRecord[], filter: PendingFilter): EscalationRecord[] {
  const { tenantId } = filter;
  return tenantId === undefined
    ? records
    : records.filter((record) => record.tenantId === tenantId);
}

/** Builds the engine (through the one engine factory) and the transport over it. */
export function createEmbeddedTransport(setup: EngineSetup): EmbeddedTransport {
  const { engine, audit } = createEngine(setup);
  return new EmbeddedTransport(engine, audit);
}
