import { EmptyError } from 'rxjs';
import type { ExecutionResult } from '../protocol/execution-result';
import type { SettledSink } from '../transport/embedded/embedded-call';
import { CallObserver } from './call-observer';

const PENDING = 0;
const RESOLVED = 1;
const REJECTED = 2;

/**
 * A CallObserver that keeps what its call settled as, for a transport that
 * answers with a promise of it (EmbeddedTransport.executeSettled): no promise,
 * resolver functions or sink of its own per call, kept while a human decides.
 * Settles once, as `lastValueFrom` would: with the final result at
 * completion, or with the first error. An interim ESCALATE result is not
 * kept (only calls that are not deferred come here), so completion without a
 * final result is an EmptyError, never an ALLOW.
 */
export class SettledObserver extends CallObserver implements SettledSink<ExecutionResult> {
  private state = PENDING;
  /** The final result so far, then the result or the error it settled with. */
  private value: unknown = null;

  /** The final result, or throws the call's error; a call not settled yet is completed first (no decision: an error). */
  settlement(): ExecutionResult {
    if (this.state === PENDING) this.complete();
    if (this.state === RESOLVED) return this.value as ExecutionResult;
    throw this.value;
  }

  protected result(result: ExecutionResult): void {
    if (this.state === PENDING && !result.escalated) this.value = result;
  }

  protected failure(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.value = error;
  }

  protected end(): void {
    if (this.state !== PENDING) return;
    if (this.value === null) this.failure(new EmptyError());
    else this.state = RESOLVED;
  }
}
