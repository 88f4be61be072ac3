/**
 * The engine's calls and writes started and not yet settled, counted so
 * that close() can wait until none is left. One function settles every
 * tracked promise: no closure per call.
 */
export class InFlight {
  private count = 0;
  private readonly idle: Array<() => void> = [];
  private readonly settled = (): void => {
    if (--this.count === 0) for (const wake of this.idle.splice(0)) wake();
  };

  /** Counts `promise` until it settles; returns it. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.count++;
    promise.then(this.settled, this.settled);
    return promise;
  }

  /** Resolves once nothing tracked is left in flight. */
  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
