import { fork } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { bootProvenance } from '../bench.app';
import type { Budget } from '../bench.budget';
import { atLeast, atMost, figure, type Figure, type GroupReport } from '../bench.figures';
import { closedLoop, type LoadResult } from '../bench.load';
import { median, percentile } from '../bench.stats';
import type { ServerReady } from '../http-gateway.server';
import { ALLOWED_PAYMENT } from '../sample.workload';
import { HttpService } from '@nestjs/axios';
import axios from 'axios';
import { referenceSdkClient } from '../reference-sdk.client';
import { AxiosHttpClient } from '../../lib/transport/http/axios-http.client';
import { RequestAbort } from '../../lib/transport/http/http-client';

/**
 * The same gated call four ways against the same gateway server (another
 * process): through ProvenanceModule with the default client (HttpTransport
 * over @nestjs/axios), through it with `httpClient: 'node'`, as a bare axios
 * request with the transport's config, and as a bare keep-alive POST of the
 * same body with node:http, whose answer is read and JSON-parsed. The
 * differences are what axios, the transport and the module add on the client.
 */
const GROUP = 'http';
const SESSION = 'sess_0123456789abcdef';
const AGENT = 'bench-agent';

export function startServer(): Promise<{ ready: ServerReady; stop(): Promise<void> }> {
  const child = fork(path.join(__dirname, '..', 'http-gateway.server.ts'), [], {
    execArgv: ['-r', path.join(__dirname, '..', '..', 'scripts', 'swc-register.js')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`gateway server exited (${code}) before it was ready`)),
    );
    child.once('message', (message) => {
      resolve({
        ready: message as ServerReady,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.disconnect();
          }),
      });
    });
  });
}

/** A bare client: one keep-alive agent, the body the module would send, the answer read and parsed. */
function rawClient(ready: ServerReady): { body: string; post(): Promise<unknown>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const url = new URL('/v1/gateway/execute', ready.url);
  const body = JSON.stringify({
    session_id: SESSION,
    agent_id: AGENT,
    action: ALLOWED_PAYMENT.action,
    parameters: ALLOWED_PAYMENT.parameters,
    decision: 'BLOCK',
  });
  const headers = {
    'X-PROVENANCE-API-KEY': ready.apiKey,
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    Prefer: 'respond-async',
  };
  const post = () =>
    new Promise<unknown>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            decision?: string;
          };
          if (res.statusCode !== 200 || answer.decision !== 'ALLOW') {
            reject(new Error(`raw POST got ${res.statusCode} ${JSON.stringify(answer)}`));
          } else resolve(answer);
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  return { body, post, close: () => agent.destroy() };
}

/** axios alone, with the transport's own config (AxiosHttpClient.send): the floor of the default path. */
function bareAxiosClient(
  ready: ServerReady,
  body: string,
): { post(): Promise<unknown>; close(): void } {
  const client = new AxiosHttpClient(new HttpService(axios.create()), ready.url);
  const headers = {
    'X-PROVENANCE-API-KEY': ready.apiKey,
    Accept: 'application/json',
    'Content-Type': 'application/json',
    Prefer: 'respond-async',
  };
  const post = async () => {
    const answer = await client.send(
      { method: 'POST', path: '/v1/gateway/execute', query: undefined, headers, body },
      new RequestAbort(),
    );
    const parsed = JSON.parse(answer.text) as { decision?: string };
    if (answer.status !== 200 || parsed.decision !== 'ALLOW') {
      throw new Error(`bare axios POST got ${answer.status} ${answer.text}`);
    }
    return parsed;
  };
  return { post, close: () => client.close() };
}

/** The variants, also their figure ids (`module` and `raw` are the names of the first wave). */
type Variant = 'module' | 'node' | 'axios' | 'sdk' | 'raw';

const LABELS: Record<Variant, string> = {
  module: 'through the module (httpClient axios, the default)',
  node: "through the module, httpClient: 'node'",
  axios: "bare axios, the transport's config (no transport, no module)",
  sdk: 'reference SDK stand-in (a thin axios client with its defaults)',
  raw: 'raw keep-alive POST',
};

/**
 * Short runs per variant in a round, in turned order (see run). Five: over
 * the three rounds of a full run the order turns fifteen times, so each of
 * the five variants (and of the three against the SDK) is first, second, …
 * equally often.
 */
const SLICES = 5;

/** The variants in order, turned left by `by`. */
function turned<T>(items: readonly T[], by: number): T[] {
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** A variant's short runs of one round, taken together. */
class Pooled {
  private ops = 0;
  private seconds = 0;
  private cpuUs = 0;
  readonly latencies: number[] = [];

  add(result: LoadResult): void {
    this.ops += result.ops;
    this.seconds += result.seconds;
    this.cpuUs += result.cpuUsPerCall * result.ops;
    for (const latency of result.latencies) this.latencies.push(latency);
  }

  opsPerSecond(): number {
    return this.ops / this.seconds;
  }

  cpuUsPerCall(): number {
    return this.cpuUs / this.ops;
  }
}

/** The comparison with the reference SDK is at concurrency 32. */
const SDK_CONCURRENCY = 32;
const AGAINST_SDK = ['module', 'node', 'sdk'] as const;

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const server = await startServer();
  const { ready } = server;
  const boot = (httpClient: 'axios' | 'node') =>
    bootProvenance({
      gatewayUrl: ready.url,
      apiKey: ready.apiKey,
      agentId: AGENT,
      defaultSession: SESSION,
      httpClient,
    });
  const app = await boot('axios');
  const nodeApp = await boot('node');
  const raw = rawClient(ready);
  const bare = bareAxiosClient(ready, raw.body);
  const sdk = referenceSdkClient(ready, JSON.parse(raw.body) as Record<string, unknown>);
  const { action, parameters } = ALLOWED_PAYMENT;
  const calls: Record<Variant, () => Promise<unknown>> = {
    module: () => app.gateway.execute(action, parameters),
    node: () => nodeApp.gateway.execute(action, parameters),
    axios: bare.post,
    sdk: sdk.post,
    raw: raw.post,
  };
  const variants = Object.keys(calls) as Variant[];
  const figures: Figure[] = [];
  try {
    for (const name of variants) {
      await closedLoop(64, budget.warmupMs / 2, calls[name]);
      await closedLoop(1, budget.warmupMs / 2, calls[name]);
    }
    const lat = {} as Record<Variant, number[]>;
    const tput = {} as Record<Variant, number[]>;
    const p50s = {} as Record<Variant, number[]>;
    const cpu = {} as Record<Variant, number[]>;
    const c32 = {} as Record<Variant, { ops: number[]; cpu: number[] }>;
    for (const name of variants) {
      [lat[name], tput[name], p50s[name], cpu[name]] = [[], [], [], []];
      c32[name] = { ops: [], cpu: [] };
    }
    // Rounds interleave the variants, so drift of the machine hits all alike:
    // each round is SLICES short runs per variant, the order turned by one
    // every slice (no variant always first, or always after the same one).
    const sliceMs = budget.roundMs / 2 / SLICES;
    for (let round = 0; round < budget.rounds; round++) {
      const single = new Map(variants.map((name) => [name, new Pooled()]));
      const many = new Map(variants.map((name) => [name, new Pooled()]));
      const againstSdk = new Map(AGAINST_SDK.map((name) => [name, new Pooled()]));
      for (let slice = 0; slice < SLICES; slice++) {
        for (const name of turned(variants, round * SLICES + slice)) {
          single.get(name)!.add(await closedLoop(1, sliceMs, calls[name], { latencies: true }));
          many.get(name)!.add(await closedLoop(64, sliceMs, calls[name]));
        }
      }
      for (let slice = 0; slice < SLICES; slice++) {
        for (const name of turned(AGAINST_SDK, round * SLICES + slice)) {
          againstSdk.get(name)!.add(await closedLoop(SDK_CONCURRENCY, sliceMs, calls[name]));
        }
      }
      for (const name of variants) {
        const one = single.get(name)!;
        lat[name].push(...one.latencies);
        p50s[name].push(percentile(one.latencies, 50));
        cpu[name].push(one.cpuUsPerCall());
        tput[name].push(many.get(name)!.opsPerSecond());
      }
      for (const name of AGAINST_SDK) {
        c32[name].ops.push(againstSdk.get(name)!.opsPerSecond());
        c32[name].cpu.push(againstSdk.get(name)!.cpuUsPerCall());
      }
    }
    figures.push(...againstSdk(c32));
    const us = (ns: number) => ns / 1000;
    // The ratio of medians over rounds: each round's runs sat next to each other.
    const ratioToRaw = (name: Variant) => median(p50s[name].map((m, i) => m / p50s.raw[i]));
    for (const name of variants) {
      const id = name;
      figures.push(
        figure(
          GROUP,
          `${id}.c1.p50`,
          `${LABELS[name]}, single flight: p50`,
          us(percentile(lat[name], 50)),
          'µs',
        ),
        figure(
          GROUP,
          `${id}.c1.p99`,
          `${LABELS[name]}, single flight: p99`,
          us(percentile(lat[name], 99)),
          'µs',
        ),
        figure(
          GROUP,
          `${id}.c1.cpu`,
          `${LABELS[name]}, single flight: client CPU per call`,
          median(cpu[name]),
          'µs',
        ),
        figure(
          GROUP,
          `${id}.c64.ops`,
          `${LABELS[name]}, concurrency 64`,
          median(tput[name]),
          'ops/s',
        ),
      );
    }
    figures.push(
      figure(
        GROUP,
        'ratio.p50',
        'module (axios) / raw, single-flight p50',
        ratioToRaw('module'),
        'ratio',
        {
          target: atMost(1.25, 'ratio'),
          note: 'median over rounds of the per-round ratio',
        },
      ),
      figure(
        GROUP,
        'ratio.p99',
        'module (axios) / raw, single-flight p99',
        percentile(lat.module, 99) / percentile(lat.raw, 99),
        'ratio',
      ),
      figure(
        GROUP,
        'node.ratio.p50',
        "module (httpClient 'node') / raw, single-flight p50",
        ratioToRaw('node'),
        'ratio',
        {
          target: atMost(1.25, 'ratio'),
          note: 'median over rounds of the per-round ratio',
        },
      ),
      figure(
        GROUP,
        'axios.ratio.p50',
        'bare axios / raw, single-flight p50 (the floor of the axios path)',
        ratioToRaw('axios'),
        'ratio',
      ),
      figure(
        GROUP,
        'ratio.c64',
        'raw / module (axios) throughput, concurrency 64',
        median(tput.raw) / median(tput.module),
        'ratio',
      ),
      figure(
        GROUP,
        'node.ratio.c64',
        "raw / module (httpClient 'node') throughput, concurrency 64",
        median(tput.raw) / median(tput.node),
        'ratio',
      ),
    );
  } finally {
    raw.close();
    bare.close();
    sdk.close();
    await app.close();
    await nodeApp.close();
    await server.stop();
  }
  return {
    group: GROUP,
    figures,
    context: { server: ready.server, serverProcess: 'separate child process' },
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * The module on each client against the reference SDK stand-in at
 * concurrency 32: throughput (the ratio is the median over rounds of the
 * per-round ratio: the runs of a round sat next to each other) and client CPU per call.
 */
function againstSdk(c32: Record<Variant, { ops: number[]; cpu: number[] }>): Figure[] {
  const figures: Figure[] = [];
  for (const name of AGAINST_SDK) {
    figures.push(
      figure(
        GROUP,
        `${name}.c${SDK_CONCURRENCY}.ops`,
        `${LABELS[name]}, concurrency ${SDK_CONCURRENCY}`,
        median(c32[name].ops),
        'ops/s',
      ),
      figure(
        GROUP,
        `${name}.c${SDK_CONCURRENCY}.cpu`,
        `${LABELS[name]}, concurrency ${SDK_CONCURRENCY}: client CPU per call`,
        median(c32[name].cpu),
        'µs',
      ),
    );
  }
  for (const [name, id] of [
    ['module', 'sdkRatio.c32'],
    ['node', 'node.sdkRatio.c32'],
  ] as const) {
    const ratio = median(c32[name].ops.map((ops, i) => ops / c32.sdk.ops[i]));
    const client = name === 'module' ? 'axios, the default' : "'node'";
    figures.push(
      figure(
        GROUP,
        id,
        `module (httpClient ${client}) / reference SDK stand-in, throughput at concurrency ${SDK_CONCURRENCY}`,
        ratio,
        'ratio',
        {
          target: atLeast(1.2, 'ratio'),
          note: 'median over rounds of the per-round ratio',
        },
      ),
    );
  }
  return figures;
}
