import { elapsedNs, median, nowNs } from './bench.stats';

export interface LoadResult {
  ops: number;
  seconds: number;
  /** All calls over the whole round, including every pause (GC, other processes). */
  opsPerSecond: number;
  /** Median over 50 ms windows: the steady rate, less sensitive to another process taking the CPU. */
  windowMedianOpsPerSecond: number;
  /** Process CPU time (all threads) per call, in µs. */
  cpuUsPerCall: number;
  /** Process CPU time over wall time: well below 1 for a CPU-bound loop means the machine was busy. */
  cpuShare: number;
  /** Per-call latencies in ns, when asked for. */
  latencies: number[];
}

const WINDOW_NS = 50_000_000;

/**
 * Runs `concurrency` workers, each awaiting `call()` in a loop, for `ms`.
 * Calls in flight when time is up are finished and counted, and the clock
 * stops when the last one returns, so ops/s is never flattered.
 */
export async function closedLoop(
  concurrency: number,
  ms: number,
  call: () => Promise<unknown>,
  options: { latencies?: boolean; wrap?: (loop: () => Promise<void>) => Promise<void> } = {},
): Promise<LoadResult> {
  // A clock check, not a timer: with an in-memory store every call settles in
  // microtasks, so a timer callback would never get to run.
  const started = nowNs();
  const deadline = started + BigInt(Math.round(ms * 1e6));
  let stop = false;
  let ops = 0;
  let errors = 0;
  let firstError: unknown = null;
  const latencies: number[] = [];
  const windows: number[] = [];
  let windowStart = started;
  let windowOps = 0;
  const record = options.latencies === true;
  const loop = async (): Promise<void> => {
    // A session is closed every 1 000 calls (when wrapped), as a worker handling jobs would.
    for (let i = 0; i < 1000 && !stop; i++) {
      const start = record ? nowNs() : 0n;
      try {
        await call();
      } catch (error) {
        errors++;
        firstError ??= error;
      }
      const now = nowNs();
      if (record) latencies.push(Number(now - start));
      ops++;
      windowOps++;
      if (now - windowStart >= WINDOW_NS) {
        windows.push((windowOps * 1e9) / Number(now - windowStart));
        windowStart = now;
        windowOps = 0;
      }
      if (now >= deadline) stop = true;
    }
  };
  const worker = async (): Promise<void> => {
    while (!stop) await (options.wrap ? options.wrap(loop) : loop());
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = elapsedNs(started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  if (errors > 0) {
    throw new Error(`${errors} of ${ops} calls failed; the first: ${String(firstError)}`);
  }
  return {
    ops,
    seconds,
    opsPerSecond: ops / seconds,
    windowMedianOpsPerSecond: windows.length > 0 ? median(windows) : ops / seconds,
    cpuUsPerCall: (cpuSeconds * 1e6) / ops,
    cpuShare: cpuSeconds / seconds,
    latencies,
  };
}
