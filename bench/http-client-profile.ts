/**
 * `node -r ./scripts/swc-register.js --cpu-prof --cpu-prof-dir <dir> bench/http-client-profile.ts [axios|node] [seconds]`
 *
 * The client side of an HTTP-mode gated call alone, for a CPU profile: the
 * call through ProvenanceModule (httpClient `axios`, the default, or `node`)
 * at concurrency 32 against the bench gateway server, which runs in a process
 * of its own and so stays out of the profile. Prints the client CPU per call;
 * `bench/profile-groups.ts --http <file>` then says where it goes.
 */
import { bootProvenance } from './bench.app';
import { closedLoop } from './bench.load';
import { startServer } from './groups/http-overhead.bench';
import { ALLOWED_PAYMENT } from './sample.workload';

async function main(): Promise<void> {
  const httpClient = process.argv[2] === 'node' ? 'node' : 'axios';
  const seconds = Number(process.argv[3] ?? 10);
  const server = await startServer();
  const app = await bootProvenance({
    gatewayUrl: server.ready.url,
    apiKey: server.ready.apiKey,
    agentId: 'bench-agent',
    defaultSession: 'sess_0123456789abcdef',
    httpClient,
  });
  const { action, parameters } = ALLOWED_PAYMENT;
  const call = () => app.gateway.execute(action, parameters);
  try {
    await closedLoop(32, 1_000, call);
    const run = await closedLoop(32, seconds * 1_000, call);
    console.log(
      `httpClient ${httpClient}: ${run.ops} calls, ${run.opsPerSecond.toFixed(0)}/s, ` +
        `client CPU ${run.cpuUsPerCall.toFixed(0)} µs per call`,
    );
  } finally {
    await app.close();
    await server.stop();
  }
}

void main();
