import { Subject, type Observable } from 'rxjs';
import type { EscalationEvent } from '../protocol/escalation-event';

/**
 * The `escalations$` stream of a transport, with the one rule both
 * transports share: once closing has begun, nothing new is announced as
 * pending, but the endings that closing causes (held calls expired) still
 * reach subscribers before the stream completes.
 *
 * With `trackPending`, it also keeps the pending list itself, for a
 * transport whose gateway cannot be asked for it (a remote one).
 */
export class EscalationFeed {
  private readonly subject = new Subject<EscalationEvent>();
  private readonly tracked: Map<string, EscalationEvent> | null;
  private closing = false;
  readonly events$: Observable<EscalationEvent> = this.subject.asObservable();

  constructor(options: { trackPending: boolean }) {
    this.tracked = options.trackPending ? new Map() : null;
  }

  publish(event: EscalationEvent): void {
    if (this.tracked !== null) {
      if (event.type === 'pending') {
        if (this.closing) return;
        this.tracked.set(event.escalationId, event);
      } else {
        this.tracked.delete(event.escalationId);
      }
    }
    if (this.closing && event.type === 'pending') return;
    this.subject.next(event);
  }

  /** The tracked pending event of an escalation, if any. */
  get(escalationId: string): EscalationEvent | undefined {
    return this.tracked?.get(escalationId);
  }

  /** Stops listing an escalation whose end this process will never see (its caller stopped waiting). */
  forget(escalationId: string): void {
    this.tracked?.delete(escalationId);
  }

  pending(): EscalationEvent[] {
    return this.tracked === null ? [] : [...this.tracked.values()];
  }

  /** From now on no new escalation is announced. */
  beginClose(): void {
    this.closing = true;
  }

  complete(): void {
    this.closing = true;
    this.tracked?.clear();
    this.subject.complete();
  }
}
