import { fork } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { bootProvenance } from '../bench.app';
import type { Budget } from '../bench.budget';
import { atMost, figure, type Figure, type GroupReport } from '../bench.figures';
import { closedLoop } from '../bench.load';
import { median, percentile } from '../bench.stats';
import type { ServerReady } from '../http-gateway.server';
import { ALLOWED_PAYMENT } from '../sample.workload';

/**
 * The same gated call two ways against the same gateway server (another
 * process): through ProvenanceModule (HttpTransport over @nestjs/axios)
 * and as a bare keep-alive POST of the same body with node:http, whose answer
 * is read and JSON-parsed. The difference is what the module adds on the client.
 * Rounds alternate module and raw, so drift of the machine hits both alike.
 */
const GROUP = 'http';
const SESSION = 'sess_0123456789abcdef';
const AGENT = 'bench-agent';

function startServer(): Promise<{ ready: ServerReady; stop(): Promise<void> }> {
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
function rawClient(ready: ServerReady): { post(): Promise<unknown>; close(): void } {
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
  return { post, close: () => agent.destroy() };
}

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const server = await startServer();
  const { ready } = server;
  const app = await bootProvenance({
    gatewayUrl: ready.url,
    apiKey: ready.apiKey,
    agentId: AGENT,
    defaultSession: SESSION,
  });
  const raw = rawClient(ready);
  const viaModule = () => app.gateway.execute(ALLOWED_PAYMENT.action, ALLOWED_PAYMENT.parameters);
  const figures: Figure[] = [];
  try {
    for (const call of [viaModule, raw.post]) {
      await closedLoop(64, budget.warmupMs, call);
      await closedLoop(1, budget.warmupMs / 2, call);
    }
    const lat = { module: [] as number[], raw: [] as number[] };
    const tput = { module: [] as number[], raw: [] as number[] };
    const p50s = { module: [] as number[], raw: [] as number[] };
    for (let round = 0; round < budget.rounds; round++) {
      for (const [name, call] of [
        ['module', viaModule],
        ['raw', raw.post],
      ] as const) {
        const one = await closedLoop(1, budget.roundMs / 2, call, { latencies: true });
        lat[name].push(...one.latencies);
        p50s[name].push(percentile(one.latencies, 50));
        const many = await closedLoop(64, budget.roundMs / 2, call);
        tput[name].push(many.opsPerSecond);
      }
    }
    const us = (ns: number) => ns / 1000;
    // The ratio of medians over rounds: each round's module and raw runs sat next to each other.
    const ratioP50 = median(p50s.module.map((m, i) => m / p50s.raw[i]));
    figures.push(
      figure(
        GROUP,
        'module.c1.p50',
        'through the module, single flight: p50',
        us(percentile(lat.module, 50)),
        'µs',
      ),
      figure(
        GROUP,
        'module.c1.p99',
        'through the module, single flight: p99',
        us(percentile(lat.module, 99)),
        'µs',
      ),
      figure(
        GROUP,
        'raw.c1.p50',
        'raw keep-alive POST, single flight: p50',
        us(percentile(lat.raw, 50)),
        'µs',
      ),
      figure(
        GROUP,
        'raw.c1.p99',
        'raw keep-alive POST, single flight: p99',
        us(percentile(lat.raw, 99)),
        'µs',
      ),
      figure(GROUP, 'ratio.p50', 'module / raw, single-flight p50', ratioP50, 'ratio', {
        target: atMost(1.15, 'ratio'),
        note: 'median over rounds of the per-round ratio',
      }),
      figure(
        GROUP,
        'ratio.p99',
        'module / raw, single-flight p99',
        percentile(lat.module, 99) / percentile(lat.raw, 99),
        'ratio',
      ),
      figure(
        GROUP,
        'module.c64.ops',
        'through the module, concurrency 64',
        median(tput.module),
        'ops/s',
      ),
      figure(
        GROUP,
        'raw.c64.ops',
        'raw keep-alive POST, concurrency 64',
        median(tput.raw),
        'ops/s',
      ),
      figure(
        GROUP,
        'ratio.c64',
        'raw / module throughput, concurrency 64',
        median(tput.raw) / median(tput.module),
        'ratio',
      ),
    );
  } finally {
    raw.close();
    await app.close();
    await server.stop();
  }
  return {
    group: GROUP,
    figures,
    context: { server: ready.server, serverProcess: 'separate child process' },
    seconds: (Date.now() - started) / 1000,
  };
}
