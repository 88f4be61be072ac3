/** Nearest-rank percentile of an unsorted sample (p in 0..100). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = Float64Array.from(sample).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(sample: readonly number[]): number {
  return percentile(sample, 50);
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function elapsedNs(since: bigint): number {
  return Number(process.hrtime.bigint() - since);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for garbage collection to settle (needs --expose-gc), so heap figures compare like with like. */
export async function settleHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc (npm run bench does)');
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(10);
  }
  return process.memoryUsage().heapUsed;
}
