import type { EscalationEvent } from '../protocol/escalation-event';
import { resolveNotifyTargets, type NotifyTarget } from './notify-options';
import {
  WebhookDispatcher,
  type DispatcherContext,
  type DispatcherTuning,
  type WebhookStats,
} from './webhook-dispatcher';

/** What the webhooks listen to: `gateway.escalations$`, or any source of the same events. */
export interface EscalationSource {
  subscribe(observer: { next: (event: EscalationEvent) => void }): { unsubscribe(): void };
}

/** How long close() lets the receivers catch up before it gives up on them. */
export const WEBHOOK_FLUSH_ON_CLOSE_MS = 2_000;

/**
 * The `notify` option at work: every event of `source` is queued for each
 * receiver that wants it, and delivered in the background. Nothing here
 * waits for a receiver on the event's path, and nothing a receiver does
 * reaches the stream (a failure is logged and counted, never thrown).
 */
export class EscalationWebhooks {
  private readonly dispatchers: WebhookDispatcher[];
  private readonly subscription: { unsubscribe(): void };
  private closing: Promise<void> | null = null;

  private constructor(
    source: EscalationSource,
    targets: readonly NotifyTarget[],
    context: DispatcherContext,
    tuning: DispatcherTuning,
  ) {
    this.dispatchers = resolveNotifyTargets(targets).map(
      (target) => new WebhookDispatcher(target, context, tuning),
    );
    this.subscription = source.subscribe({
      next: (event) => {
        for (const dispatcher of this.dispatchers) {
          try {
            dispatcher.enqueue(event);
          } catch {
            // enqueue does not throw; if it ever did, the stream must not notice.
          }
        }
      },
    });
  }

  /** Starts the webhooks of a checked `notify` option; null when it names no receiver. */
  static start(
    source: EscalationSource,
    targets: readonly NotifyTarget[] | null | undefined,
    context: DispatcherContext,
    tuning: DispatcherTuning = {},
  ): EscalationWebhooks | null {
    if (targets === null || targets === undefined || targets.length === 0) return null;
    return new EscalationWebhooks(source, targets, context, tuning);
  }

  /** Per receiver (in the order of `notify`): delivered, failed, dropped, queued. */
  stats(): WebhookStats[] {
    return this.dispatchers.map((d) => d.stats());
  }

  /**
   * Stops listening, gives the receivers up to `flushMs` to take what is
   * queued, then abandons the rest (logged). Idempotent.
   */
  close(flushMs = WEBHOOK_FLUSH_ON_CLOSE_MS): Promise<void> {
    this.closing ??= (async () => {
      this.subscription.unsubscribe();
      await Promise.all(this.dispatchers.map((d) => d.close(flushMs)));
    })();
    return this.closing;
  }
}
