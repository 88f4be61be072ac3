import { createHash } from 'node:crypto';
import type { EscalationEvent } from '../protocol/escalation-event';
import type { ResolvedNotifyTarget } from './notify-options';
import { NotifyMessages } from './notify.messages';
import { attemptDelivery, backoffDelay, type AttemptOutcome } from './webhook-delivery';
import { WebhookQueue } from './webhook-queue';

/** Where the dispatcher's warnings go (a Nest LoggerService fits). */
export interface WebhookLogger {
  warn(message: string): unknown;
}

export interface DispatcherContext {
  /** Written into every body. */
  tenant: string | null;
  logger: WebhookLogger;
}

/** Tuning, for tests and the server; the defaults suit production. */
export interface DispatcherTuning {
  /** Deliveries waiting per receiver before the oldest is dropped. Default 1000. */
  queueCapacity?: number;
  /** First retry wait, in ms (doubled per attempt, with jitter). Default 500. */
  baseDelayMs?: number;
  /** Longest retry wait, in ms. Default 30 000. */
  maxDelayMs?: number;
}

/** What one receiver's dispatcher has done so far. */
export interface WebhookStats {
  url: string;
  delivered: number;
  /** Given up: refused, out of attempts, or not made before close. */
  failed: number;
  /** Dropped from a full queue. */
  dropped: number;
  /** Waiting (not counting the one being sent). */
  queued: number;
}

/** The JSON body of a webhook: the EscalationEvent, with the tenant and the delivery id. */
export interface WebhookBody extends EscalationEvent {
  deliveryId: string;
  tenant: string | null;
}

interface Delivery {
  event: EscalationEvent;
}

/**
 * Sends one receiver its webhooks, one at a time in the order of the events
 * (so `pending` arrives before its ending), in the background: `enqueue` only
 * queues and returns, whatever the receiver does. A failed attempt is retried
 * with backoff up to the target's `maxAttempts`.
 */
export class WebhookDispatcher {
  private readonly queue: WebhookQueue<Delivery>;
  private readonly abort = new AbortController();
  private readonly tuning: Required<DispatcherTuning>;
  private worker: Promise<void> | null = null;
  private accepting = true;
  private delivered = 0;
  private failed = 0;
  /** Attempts cut short by close(). */
  private abandonedInFlight = 0;

  constructor(
    readonly target: ResolvedNotifyTarget,
    private readonly context: DispatcherContext,
    tuning: DispatcherTuning = {},
  ) {
    this.tuning = {
      queueCapacity: tuning.queueCapacity ?? 1000,
      baseDelayMs: tuning.baseDelayMs ?? 500,
      maxDelayMs: tuning.maxDelayMs ?? 30_000,
    };
    this.queue = new WebhookQueue(this.tuning.queueCapacity);
  }

  /** Queues `event` if this receiver wants it. Synchronous; never throws, never waits. */
  enqueue(event: EscalationEvent): void {
    if (!this.accepting || !this.target.events.has(event.type)) return;
    const full = this.queue.push({ event });
    if (full !== null) {
      const dropped = this.queue.dropped;
      // 1, 2, 4, 8, ...: a receiver that is down for long does not flood the log.
      if ((dropped & (dropped - 1)) === 0) {
        this.context.logger.warn(
          NotifyMessages.dropped(this.target.shownUrl, dropped, this.queue.capacity),
        );
      }
    }
    this.worker ??= this.drain();
  }

  stats(): WebhookStats {
    return {
      url: this.target.shownUrl,
      delivered: this.delivered,
      failed: this.failed,
      dropped: this.queue.dropped,
      queued: this.queue.size,
    };
  }

  /**
   * Stops accepting, lets the queue drain for at most `flushMs`, then aborts
   * what is in flight and gives up on the rest (logged, counted as failed).
   */
  async close(flushMs: number): Promise<void> {
    this.accepting = false;
    const worker = this.worker;
    if (worker !== null) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, flushMs);
      });
      await Promise.race([worker, deadline]);
      clearTimeout(timer);
    }
    this.abort.abort();
    const rest = this.queue.drain();
    await this.worker;
    const abandoned = rest.length + this.abandonedInFlight;
    if (abandoned > 0) {
      this.failed += rest.length;
      this.context.logger.warn(NotifyMessages.abandonedAtClose(this.target.shownUrl, abandoned));
    }
  }

  /**
   * The worker, never rejecting: nothing awaits it but close(), so a failure
   * it did not expect (a logger that throws) must not become an unhandled
   * rejection in the app that only wanted its escalations posted.
   */
  private drain(): Promise<void> {
    return this.run().catch(() => undefined);
  }

  private async run(): Promise<void> {
    // Leave the caller's stack first: the event's subscriber (the decision path) returns at once.
    await Promise.resolve();
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        await this.deliver(next);
      }
    } finally {
      this.worker = null;
    }
    // An enqueue between the last shift and here started no worker: look again.
    if (this.queue.size > 0 && !this.abort.signal.aborted) this.worker ??= this.drain();
  }

  private async deliver({ event }: Delivery): Promise<void> {
    const deliveryId = deliveryIdOf(this.context.tenant, event);
    const body: WebhookBody = { deliveryId, tenant: this.context.tenant, ...event };
    const text = JSON.stringify(body);
    const { target } = this;
    for (let attempt = 1; ; attempt++) {
      const outcome: AttemptOutcome = await attemptDelivery({
        url: target.url,
        authorization: target.authorization,
        secret: target.secret,
        body: text,
        deliveryId,
        eventType: `escalation.${event.type}`,
        timeout: target.timeout,
        signal: this.abort.signal,
      });
      if (outcome.kind === 'delivered') {
        this.delivered++;
        return;
      }
      if (this.abort.signal.aborted) {
        this.failed++;
        this.abandonedInFlight++;
        return;
      }
      if (outcome.kind === 'refused') {
        this.failed++;
        this.context.logger.warn(
          NotifyMessages.notRetried(target.shownUrl, event.type, event.escalationId, outcome.why),
        );
        return;
      }
      if (attempt >= target.maxAttempts) {
        this.failed++;
        this.context.logger.warn(
          NotifyMessages.gaveUp(
            target.shownUrl,
            event.type,
            event.escalationId,
            attempt,
            outcome.why,
          ),
        );
        return;
      }
      const wait =
        outcome.retryAfterMs ??
        backoffDelay(attempt, this.tuning.baseDelayMs, this.tuning.maxDelayMs);
      await sleep(wait, this.abort.signal);
    }
  }
}

/**
 * The id of the delivery of one step of one escalation: derived from the
 * tenant, the escalation and the step, so it is the same on every attempt and
 * from every replica (on PostgreSQL each replica that learns of a step sends
 * it): a receiver keeps each id once.
 */
function deliveryIdOf(tenant: string | null, event: EscalationEvent): string {
  const key = JSON.stringify([tenant, event.escalationId, event.type]);
  return `whd_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. The timer does not keep the process alive. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
