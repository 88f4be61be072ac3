// The non-framework sub-paths (nestjs-provenance/testing, /health) and what
// the root entry point loads, as a user sees them from the packed tarball:
// the sources of the scripts pack-smoke.mjs runs in its fresh projects, and
// the checks on what they print. The same script runs from CommonJS
// (require) and from an ES module (import).

/**
 * Optional peer dependencies (and the HTTP platforms) that the root entry
 * point must not load: each is loaded only by the sub-path or the option
 * that needs it.
 */
export const NOT_LOADED_BY_ROOT =
  /[\\/]node_modules[\\/](@opentelemetry[\\/]api|@nestjs[\\/]terminus|@nestjs[\\/]platform-[a-z]+|pg|pg-[a-z]+|express|fastify|ai|@ai-sdk|@langchain|langchain|@modelcontextprotocol|@openai)[\\/]/;

/**
 * The script: `flavor` 'cjs' or 'esm'; `health` true where @nestjs/terminus
 * is installed (it supports NestJS 11 only, so not in the NestJS 12 project).
 * It prints one JSON line.
 */
export function subpathSource(flavor, policy, { health }) {
  const load =
    flavor === 'cjs'
      ? `const req = require;
const load = async (name) => require(name);
(async () => {`
      : `import { createRequire } from 'node:module';
const req = createRequire(import.meta.url);
const load = (name) => import(name);
{`;
  const end = flavor === 'cjs' ? `})().catch((e) => { console.error(e); process.exit(1); });` : `}`;
  // Every module loaded so far from node_modules (CommonJS cache; the library is CommonJS).
  return `${load}
const seen = () => Object.keys(req.cache).filter((k) => ${NOT_LOADED_BY_ROOT}.test(k));
const installed = ['@opentelemetry/api', '@nestjs/terminus', 'pg', '@nestjs/platform-express'].filter((name) => {
  try { req.resolve(name); return true; } catch { return false; }
});
const root = await load('nestjs-provenance');
const afterRoot = seen();
const { Module } = await load('@nestjs/common');
const { NestFactory } = await load('@nestjs/core');
const { ProvenanceGateway, PolicyBlockedError } = root;
const policy = ${JSON.stringify(policy)};
const out = { installed, afterRoot };

const testing = await load('nestjs-provenance/testing');
out.afterTesting = seen();
class TestAppModule {}
Module({ imports: [testing.ProvenanceTestingModule.forRoot({ policy })] })(TestAppModule);
const testApp = await NestFactory.createApplicationContext(TestAppModule, { logger: false });
const gateway = testApp.get(ProvenanceGateway);
const allowed = await gateway.execute('payments.initiate', { amount: 5 });
let blocked = null;
try { await gateway.execute('payments.initiate', { amount: 500 }); } catch (e) { blocked = e; }
out.testing = {
  reviewer: typeof testApp.get(testing.ProvenanceTestReviewer),
  allowed: allowed.allowed,
  blockedIsRootError: blocked instanceof PolicyBlockedError,
  blocked: blocked && blocked.constructor.name,
  agentId: (await gateway.audit.list({})).map((e) => e.agentId),
};
await testApp.close();

if (${health}) {
  const { TerminusModule, HealthCheckService } = await load('@nestjs/terminus');
  const { ProvenanceHealthIndicator } = await load('nestjs-provenance/health');
  class HealthAppModule {}
  Module({
    imports: [root.ProvenanceModule.forRoot({ agentId: 'smoke-agent', policy, audit: { store: 'memory' } }), TerminusModule],
    providers: [ProvenanceHealthIndicator],
  })(HealthAppModule);
  const app = await NestFactory.createApplicationContext(HealthAppModule, { logger: false });
  const indicator = app.get(ProvenanceHealthIndicator);
  const report = await app.get(HealthCheckService).check([() => indicator.isHealthy('provenance')]);
  out.health = { status: report.status, provenance: report.details.provenance };
  await app.close();
} else {
  try { await load('nestjs-provenance/health'); out.health = { loads: true }; }
  catch (e) { out.health = { loads: false, message: String(e.message).split('\\n')[0] }; }
}
console.log(JSON.stringify(out));
${end}
`;
}

export function checkSubpaths(check, name, out, { health }) {
  const got = JSON.parse(out);
  const detail = JSON.stringify(got);
  if (health) {
    check(
      `${name}: @opentelemetry/api, @nestjs/terminus, pg and an HTTP platform are installed`,
      got.installed.length === 4,
      got.installed.join(', '),
    );
  }
  check(
    `${name}: the root entry point loads none of ${got.installed.join(', ') || 'the optional peers'} nor any framework`,
    got.afterRoot.length === 0,
    got.afterRoot.join(', '),
  );
  check(
    `${name}: nestjs-provenance/testing loads none of them either`,
    got.afterTesting.length === 0,
    got.afterTesting.join(', '),
  );
  check(
    `${name}: ProvenanceTestingModule gates a call (ALLOW runs, BLOCK is the root's PolicyBlockedError)`,
    got.testing.reviewer === 'object' &&
      got.testing.allowed === true &&
      got.testing.blockedIsRootError === true &&
      JSON.stringify(got.testing.agentId) === '["test-agent","test-agent"]',
    detail,
  );
  if (health) {
    const p = got.health.provenance ?? {};
    check(
      `${name}: nestjs-provenance/health reports the embedded gateway up through HealthCheckService`,
      got.health.status === 'ok' &&
        p.status === 'up' &&
        p.mode === 'embedded' &&
        p.storeWritable === true &&
        p.pendingEscalations === 0,
      JSON.stringify(got.health),
    );
  } else {
    check(
      `${name}: nestjs-provenance/health without @nestjs/terminus fails naming it`,
      got.health.loads === false && got.health.message.includes('@nestjs/terminus'),
      JSON.stringify(got.health),
    );
  }
}
