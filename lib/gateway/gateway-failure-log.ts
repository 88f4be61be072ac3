import type { LoggerService } from '@nestjs/common';
import { AuditStoreError } from '../engine/audit/audit.errors';
import { GatewayError } from '../protocol/provenance.errors';
import { redact } from '../transport/http/http.errors';
import { GatewayFailureMessages as M } from './gateway-failure.messages';

/** How many distinct causes one gateway logs before it stops (a cause that varies per call). */
export const DISTINCT_CAUSES_LOGGED = 32;

/** How deep a chain of `cause`s is followed. */
const MAX_CAUSE_DEPTH = 8;

/**
 * Says why gated calls fail, once per distinct cause: a call answered
 * "could not decide" raises a GatewayError, and this is where the log learns
 * why (the kind, the HTTP status, the store's or the transport's message).
 * A damaged or failing audit store is said with the store's own message
 * (the innermost AuditStoreError: a failed log wraps the first refusal).
 * Never the API key: every line is redacted with it.
 */
export class GatewayFailureLog {
  private readonly said = new Set<string>();
  /** Blanks the key out of a line. A closure, not a field: inspecting the gateway must not print the key. */
  private readonly scrub: (text: string) => string;

  constructor(
    private readonly logger: LoggerService,
    apiKey: string | null,
  ) {
    this.scrub = (text) => redact(text, apiKey ?? '');
  }

  /** Logs `error`'s cause if it is a gateway failure not said before. */
  sayOnce(error: unknown): void {
    const line = this.lineFor(error);
    if (line === null || this.said.has(line.key)) return;
    if (this.said.size >= DISTINCT_CAUSES_LOGGED) {
      if (this.said.size === DISTINCT_CAUSES_LOGGED) {
        this.said.add('');
        this.logger.warn(M.tooManyCauses(DISTINCT_CAUSES_LOGGED));
      }
      return;
    }
    this.said.add(line.key);
    this.logger.error(this.scrub(line.text));
  }

  /**
   * The line for a failure, and what makes it distinct: the innermost cause
   * (a failed log's later refusals wrap the first error, so they are the same cause).
   */
  private lineFor(error: unknown): { key: string; text: string } | null {
    if (!(error instanceof GatewayError)) return null;
    let refusal: AuditStoreError | null = null;
    let innermost: Error = error;
    for (
      let cause = error.cause, depth = 0;
      cause instanceof Error && depth < MAX_CAUSE_DEPTH;
      depth++
    ) {
      if (cause instanceof AuditStoreError) refusal = cause;
      innermost = cause;
      cause = (cause as { cause?: unknown }).cause;
    }
    const key = `${error.kind}|${error.status ?? ''}|${innermost.message}`;
    if (refusal !== null) return { key, text: M.storeRefuses(refusal.message) };
    let why = error.message;
    if (innermost !== error && !why.includes(innermost.message)) {
      why = `${why} (cause: ${innermost.message})`;
    }
    return { key, text: M.couldNotDecide(error.url, error.kind, error.status, why) };
  }
}
