import { compilePolicy, evaluatePolicy, type CompiledPolicy } from '../../lib/engine';
import type { Budget } from '../bench.budget';
import { atMost, figure, type Figure, type GroupReport } from '../bench.figures';
import { elapsedNs, median, nowNs, percentile } from '../bench.stats';
import { generateCalls, generatePolicy, uncachedCalls, type Call } from '../policy.generator';
import { SAMPLE_CALLS, samplePolicy } from '../sample.workload';

/**
 * evaluatePolicy on its own. One call takes ~100 ns, about what reading the
 * clock costs, so calls are timed in batches of N (N chosen so a batch takes
 * ~250 µs) and each batch gives one ns-per-call sample; p50/p99 are taken over
 * batches, ops/s is all calls over all measured time.
 */
const GROUP = 'evaluation';
const SEED = 20240601;
const BATCH_TARGET_NS = 250_000;

interface Subject {
  key: string;
  label: string;
  policy: CompiledPolicy;
  calls: readonly Call[];
  /** Calls are taken in order, wrapping; a power of two lets the loop mask instead of divide. */
  mask: number | null;
  target?: number;
  samples: number[];
  calls_done: number;
  ns_total: number;
  batch: number;
  next: number;
}

function subject(
  key: string,
  label: string,
  policy: CompiledPolicy,
  calls: readonly Call[],
  target?: number,
): Subject {
  const size = calls.length;
  const mask = (size & (size - 1)) === 0 ? size - 1 : null;
  return {
    key,
    label,
    policy,
    calls,
    mask,
    target,
    samples: [],
    calls_done: 0,
    ns_total: 0,
    batch: 64,
    next: 0,
  };
}

function repeatTo(calls: readonly Call[], size: number): Call[] {
  return Array.from({ length: size }, (_, i) => calls[i % calls.length]);
}

/** One batch of `n` calls; returns a sum of rule indexes so the work cannot be optimised away. */
function runBatch(s: Subject, n: number): number {
  const { policy, calls, mask } = s;
  let sink = 0;
  let at = s.next;
  if (mask !== null) {
    for (let i = 0; i < n; i++) {
      const call = calls[at++ & mask];
      sink += evaluatePolicy(policy, call.action, call.parameters).ruleIndex;
    }
  } else {
    const size = calls.length;
    for (let i = 0; i < n; i++) {
      const call = calls[at++ % size];
      sink += evaluatePolicy(policy, call.action, call.parameters).ruleIndex;
    }
  }
  s.next = at;
  return sink;
}

let sink = 0;

function calibrate(s: Subject): void {
  for (;;) {
    const start = nowNs();
    sink += runBatch(s, s.batch);
    if (elapsedNs(start) >= BATCH_TARGET_NS || s.batch >= 1 << 22) return;
    s.batch *= 2;
  }
}

function runFor(s: Subject, ms: number, record: boolean): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const start = nowNs();
    sink += runBatch(s, s.batch);
    const ns = elapsedNs(start);
    if (record) {
      s.samples.push(ns / s.batch);
      s.calls_done += s.batch;
      s.ns_total += ns;
    }
  }
}

/** The loop with a trivial callee instead of evaluatePolicy: what the harness itself costs per call. */
function harnessOverheadNs(ms: number): number {
  const calls = repeatTo(SAMPLE_CALLS, 256);
  const trivial = (_p: unknown, action: string) => action.length;
  const samples: number[] = [];
  const n = 4096;
  const until = Date.now() + ms;
  let at = 0;
  while (Date.now() < until) {
    const start = nowNs();
    for (let i = 0; i < n; i++) {
      const call = calls[at++ & 255];
      sink += trivial(call.parameters, call.action);
    }
    samples.push(elapsedNs(start) / n);
  }
  return median(samples);
}

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const sample = samplePolicy();
  const p10 = generatePolicy(10, SEED);
  const p100 = generatePolicy(100, SEED);
  const p1000 = generatePolicy(1000, SEED);
  const p10000 = generatePolicy(10_000, SEED);
  const subjects = [
    subject('rules10', 'generated, 10 rules', compilePolicy(p10), generateCalls(p10, 256, SEED)),
    subject(
      'sample',
      `sample policy (${sample.document.rules.length} rules)`,
      compilePolicy(sample.document),
      repeatTo(SAMPLE_CALLS, 256),
      500,
    ),
    subject(
      'rules100',
      'generated, 100 rules',
      compilePolicy(p100),
      generateCalls(p100, 256, SEED),
    ),
    subject(
      'rules1000',
      'generated, 1000 rules',
      compilePolicy(p1000),
      generateCalls(p1000, 256, SEED),
      2000,
    ),
    subject(
      'rules10000',
      'generated, 10000 rules',
      compilePolicy(p10000),
      generateCalls(p10000, 256, SEED),
    ),
    subject(
      'rules1000_uncached',
      'generated, 1000 rules, every action new',
      compilePolicy(p1000),
      uncachedCalls(200_000, SEED),
    ),
  ];

  for (const s of subjects) {
    runFor(s, budget.warmupMs, false);
    calibrate(s);
  }
  // Rounds interleave the policies, so a slow spell of the machine hits all of them alike.
  for (let round = 0; round < budget.rounds; round++) {
    for (const s of subjects) runFor(s, budget.roundMs / 2, true);
  }

  const figures: Figure[] = [];
  for (const s of subjects) {
    const p50 = percentile(s.samples, 50);
    const note = `${s.samples.length} batches of ${s.batch} calls`;
    figures.push(
      figure(GROUP, `${s.key}.p50`, `${s.label}: p50`, p50, 'ns/call', {
        target: s.target === undefined ? undefined : atMost(s.target, 'ns/call'),
        note,
      }),
      figure(
        GROUP,
        `${s.key}.p99`,
        `${s.label}: p99 (of batch means)`,
        percentile(s.samples, 99),
        'ns/call',
      ),
      figure(
        GROUP,
        `${s.key}.ops`,
        `${s.label}: throughput, 1 thread`,
        (s.calls_done * 1e9) / s.ns_total,
        'ops/s',
      ),
    );
  }
  // The scaling figures (issue 16): p50 per call by policy size, flat rather than linear.
  for (const size of [10, 100, 1000, 10_000]) {
    const s = subjects.find((one) => one.key === `rules${size}`)!;
    figures.push(
      figure(
        'policy',
        `rules.${size}.ns`,
        `evaluation, generated policy of ${size} rules: p50`,
        percentile(s.samples, 50),
        'ns/call',
      ),
    );
  }
  figures.push(
    figure(
      GROUP,
      'harness.overhead',
      'harness loop alone (included above)',
      harnessOverheadNs(200),
      'ns/call',
    ),
  );
  return {
    group: GROUP,
    figures,
    context: {
      samplePolicy: sample.source,
      sampleRules: sample.document.rules.length,
      generatorSeed: SEED,
      sink: sink % 2,
    },
    seconds: (Date.now() - started) / 1000,
  };
}
