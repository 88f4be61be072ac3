import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { Budget } from '../bench.budget';
import { atLeast, figure, type Figure, type GroupReport } from '../bench.figures';
import { median } from '../bench.stats';
import type { ThroughputServersReady } from '../server-throughput.server';
import { ALLOWED_PAYMENT } from '../sample.workload';

/**
 * The gateway server's own throughput: `POST /v1/gateway/execute` (an ALLOW
 * after two conditions, in-memory audit store) at 64 connections, against
 * the floor of a bare Nest route on the same adapter answering the same
 * bytes. The servers run in a child process; autocannon (the load) runs in
 * this one, so the two share the machine's 2 cores but not an event loop.
 * Each round is gateway, floor, floor, gateway (half as long each, taken
 * together per route): drift of the machine over a round, and whatever a
 * run leaves the next one (the servers' garbage), fall on both alike.
 */
const GROUP = 'server';
const CONNECTIONS = 64;
const PROFILE_DIR = path.join(__dirname, '..', 'results', 'profiles');

interface AutocannonResult {
  requests: { total: number };
  /** Seconds the run took (autocannon rounds it to 10 ms). */
  duration: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

// No type package for autocannon; its programmatic API is one function.
const autocannon = require('autocannon') as Autocannon;

function startServers(
  platform: string,
): Promise<{ ready: ThroughputServersReady; child: ChildProcess; stop(): Promise<void> }> {
  const child = fork(path.join(__dirname, '..', 'server-throughput.server.ts'), [platform], {
    execArgv: [
      '-r',
      path.join(__dirname, '..', '..', 'scripts', 'swc-register.js'),
      // `--cpu-prof` (npm run bench:profile) profiles the servers too: server-<platform>.cpuprofile.
      ...(process.execArgv.includes('--cpu-prof')
        ? [
            '--cpu-prof',
            '--cpu-prof-dir',
            PROFILE_DIR,
            '--cpu-prof-name',
            `server-${platform}.cpuprofile`,
          ]
        : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`servers exited (${code}) before they were ready`)),
    );
    child.once('message', (message) => {
      resolve({
        ready: message as ThroughputServersReady,
        child,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.disconnect();
          }),
      });
    });
  });
}

async function load(url: string, headers: Record<string, string>, body: string, ms: number) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: ms / 1000,
  });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(
      `${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`,
    );
  }
  return result;
}

interface Samples {
  ops: { gateway: number[]; bare: number[] };
  p50: { gateway: number[]; bare: number[] };
  cpu: { gateway: number[]; bare: number[] };
  ratios: number[];
}

/** One adapter's figures: medians over the rounds. */
function platformFigures(platform: string, { ops, p50, cpu, ratios }: Samples): Figure[] {
  return [
    figure(
      GROUP,
      `${platform}.gateway.ops`,
      `${platform}: POST /v1/gateway/execute, 64 connections`,
      median(ops.gateway),
      'ops/s',
    ),
    figure(
      GROUP,
      `${platform}.bare.ops`,
      `${platform}: bare Nest route, same answer, 64 connections`,
      median(ops.bare),
      'ops/s',
    ),
    figure(
      GROUP,
      `${platform}.gateway.p50`,
      `${platform}: gateway latency p50`,
      median(p50.gateway),
      'ms',
    ),
    figure(
      GROUP,
      `${platform}.bare.p50`,
      `${platform}: bare route latency p50`,
      median(p50.bare),
      'ms',
    ),
    // CPU per request follows the work more than the load does (the load moves the ops/s).
    figure(
      GROUP,
      `${platform}.gateway.cpuUs`,
      `${platform}: gateway server CPU per request`,
      median(cpu.gateway),
      'µs',
    ),
    figure(
      GROUP,
      `${platform}.bare.cpuUs`,
      `${platform}: bare route server CPU per request`,
      median(cpu.bare),
      'µs',
    ),
    figure(
      GROUP,
      `${platform}.ratio`,
      `${platform}: gateway / bare route throughput`,
      median(ratios),
      'ratio',
      {
        target: atLeast(0.6, 'ratio'),
        note: 'median over rounds of the per-round ratio',
      },
    ),
  ];
}

/** The servers' process CPU time so far (µs, user + system), asked over IPC. */
function cpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: { cpuMicros?: number }) => {
      if (typeof message.cpuMicros !== 'number') return;
      child.off('message', onMessage);
      resolve(message.cpuMicros);
    };
    child.on('message', onMessage);
    child.send({ cpu: true });
  });
}

/** One measured run against `url`, with the servers' CPU time per request it cost. */
async function measured(child: ChildProcess, ...args: Parameters<typeof load>) {
  const before = await cpuMicros(child);
  const result = await load(...args);
  const cpuPerRequest = ((await cpuMicros(child)) - before) / result.requests.total;
  return { result, cpuPerRequest };
}

type Measured = Awaited<ReturnType<typeof measured>>;

/** Two runs against one route, taken together: requests per second, the mean p50, CPU per request. */
function pooled(first: Measured, second: Measured): { ops: number; p50: number; cpu: number } {
  const requests = first.result.requests.total + second.result.requests.total;
  return {
    ops: requests / (first.result.duration + second.result.duration),
    p50: (first.result.latency.p50 + second.result.latency.p50) / 2,
    cpu:
      (first.cpuPerRequest * first.result.requests.total +
        second.cpuPerRequest * second.result.requests.total) /
      requests,
  };
}

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const figures: Figure[] = [];
  const context: GroupReport['context'] = {
    load: `autocannon, ${CONNECTIONS} connections, in the bench process; servers in a child process`,
  };
  const body = JSON.stringify({
    session_id: 'sess_0123456789abcdef',
    agent_id: 'bench-agent',
    action: ALLOWED_PAYMENT.action,
    parameters: ALLOWED_PAYMENT.parameters,
    decision: 'BLOCK',
  });
  for (const platform of ['express', 'fastify'] as const) {
    const servers = await startServers(platform);
    try {
      const { ready, child } = servers;
      const headers = {
        'content-type': 'application/json',
        accept: 'application/json',
        'x-provenance-api-key': ready.apiKey,
      };
      const gatewayUrl = `${ready.gatewayUrl}/v1/gateway/execute`;
      const bareUrl = `${ready.bareUrl}/bare`;
      // The floor answers the gateway's own answer text: the same bytes on the wire.
      const first = await fetch(gatewayUrl, { method: 'POST', headers, body });
      const answer = await first.text();
      if (first.status !== 200 || !answer.includes('"ALLOW"')) {
        throw new Error(`the gateway answered ${first.status} ${answer}`);
      }
      await new Promise<void>((resolve) => {
        child.once('message', () => resolve());
        child.send({ answer });
      });
      context[`${platform}AnswerBytes`] = Buffer.byteLength(answer);
      await load(gatewayUrl, headers, body, budget.warmupMs * 2);
      await load(bareUrl, headers, body, budget.warmupMs * 2);
      const ops = { gateway: [] as number[], bare: [] as number[] };
      const p50 = { gateway: [] as number[], bare: [] as number[] };
      const cpu = { gateway: [] as number[], bare: [] as number[] };
      const ratios: number[] = [];
      const half = budget.roundMs * 0.75;
      for (let round = 0; round < budget.rounds; round++) {
        const g1 = await measured(child, gatewayUrl, headers, body, half);
        const b1 = await measured(child, bareUrl, headers, body, half);
        const b2 = await measured(child, bareUrl, headers, body, half);
        const g2 = await measured(child, gatewayUrl, headers, body, half);
        const g = pooled(g1, g2);
        const b = pooled(b1, b2);
        ops.gateway.push(g.ops);
        ops.bare.push(b.ops);
        p50.gateway.push(g.p50);
        p50.bare.push(b.p50);
        cpu.gateway.push(g.cpu);
        cpu.bare.push(b.cpu);
        ratios.push(g.ops / b.ops);
      }
      figures.push(...platformFigures(platform, { ops, p50, cpu, ratios }));
    } finally {
      await servers.stop();
    }
  }
  return { group: GROUP, figures, context, seconds: (Date.now() - started) / 1000 };
}
