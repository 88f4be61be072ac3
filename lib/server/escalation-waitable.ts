import type { GatewayResponse } from '../protocol/gateway.types';
import { MalformedOutcomeError, readStoredOutcome } from '../postgres/stored-outcome';
import type { ServedEscalation, Tenant } from './tenants';

/** How often `/wait` reads the row of an escalation another server holds, besides the change notices. */
export const SHARED_WAIT_POLL_MS = 1000;

/** What `/wait` waits on: the answer when it is known, else its promise; `stop()` when done waiting. */
export interface Waitable {
  readonly response: GatewayResponse | null;
  readonly final: Promise<GatewayResponse>;
  stop(): void;
}

/** An escalation raised through this server: its held call's own answer. */
export function servedWaitable(served: ServedEscalation): Waitable {
  return {
    get response() {
      return served.response;
    },
    final: served.final,
    stop: () => undefined,
  };
}

/**
 * An escalation of the tenant that another server holds (both on one
 * PostgreSQL schema): undefined when the tenant has no such row. Its answer
 * is the one the ending recorded in the row (readStoredOutcome: an ALLOW only
 * for an approval), read as soon as this server's engine tells of the ending
 * (its change notices) or, at the latest, at the next read every `pollMs`.
 * A read that fails is tried again at the next; a malformed answer rejects.
 */
export async function sharedWaitable(
  tenant: Tenant,
  escalationId: string,
  pollMs = SHARED_WAIT_POLL_MS,
): Promise<Waitable | undefined> {
  const context = tenant.postgres;
  if (context === null) return undefined;
  const first = await readStoredOutcome(context, tenant.id, escalationId);
  if (first.kind === 'unknown') return undefined;
  if (first.kind === 'ended') {
    return {
      response: first.response,
      final: Promise.resolve(first.response),
      stop: () => undefined,
    };
  }
  let response: GatewayResponse | null = null;
  let stop: () => void = () => undefined;
  const final = new Promise<GatewayResponse>((resolve, reject) => {
    let reading = false;
    const read = (): void => {
      if (reading) return;
      reading = true;
      readStoredOutcome(context, tenant.id, escalationId).then(
        (found) => {
          reading = false;
          if (found.kind !== 'ended') return;
          response = found.response;
          stop();
          resolve(found.response);
        },
        (error: unknown) => {
          reading = false;
          // A malformed answer is final (never an answer); a failed read is tried again.
          if (error instanceof MalformedOutcomeError) {
            stop();
            reject(error);
          }
        },
      );
    };
    const off = tenant.gateway.onEscalation((event) => {
      if (event.record.id === escalationId && event.type !== 'pending') read();
    });
    const timer = setInterval(read, pollMs);
    timer.unref();
    stop = () => {
      off();
      clearInterval(timer);
    };
    // The ending may have come between the first read and the subscription.
    read();
  });
  // Nobody may be waiting on `final` any more when it rejects.
  final.catch(() => undefined);
  return {
    get response() {
      return response;
    },
    final,
    stop: () => stop(),
  };
}
