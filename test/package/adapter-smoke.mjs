// The agent-framework sub-paths (nestjs-provenance/ai, /langchain, /mcp,
// /openai-agents) as a user sees them from the packed tarball: the sources of
// the scripts pack-smoke.mjs runs in its fresh projects, and the checks on
// what they print.

/** The packages of the frameworks the adapters wrap (optional peer dependencies). */
const FRAMEWORKS =
  /[\\/]node_modules[\\/](ai|@langchain|langchain|@modelcontextprotocol|@openai)[\\/]/;

/**
 * What the sub-paths do in a project that has no framework installed: a
 * sub-path whose adapter needs its framework at run time fails with the
 * resolver's own MODULE_NOT_FOUND naming it; one that uses only its types
 * loads without it.
 */
export const WITHOUT_FRAMEWORKS = {
  ai: { loads: true },
  'openai-agents': { loads: true },
  mcp: { loads: false, names: '@modelcontextprotocol/sdk' },
  langchain: { loads: false, names: '@langchain/core' },
};

/** CommonJS, no framework installed: the root entry point, then each sub-path. */
export function bareCjsSource() {
  return `const frameworks = ${FRAMEWORKS};
const root = require('nestjs-provenance');
const afterRoot = Object.keys(require.cache).filter((k) => frameworks.test(k));
const installed = ['ai', '@langchain/core', 'langchain', '@modelcontextprotocol/sdk', '@openai/agents'].filter((name) => {
  try { require.resolve(name); return true; } catch { return false; }
});
const subpaths = {};
for (const name of ${JSON.stringify(Object.keys(WITHOUT_FRAMEWORKS))}) {
  try {
    const m = require('nestjs-provenance/' + name);
    subpaths[name] = { loads: true, functions: Object.keys(m).filter((k) => typeof m[k] === 'function') };
  } catch (e) {
    subpaths[name] = { loads: false, code: e.code, message: String(e.message).split('\\n')[0] };
  }
}
console.log(JSON.stringify({
  rootLoads: typeof root.ProvenanceModule === 'function' && typeof root.ProvenanceGateway === 'function',
  afterRoot,
  installed,
  subpaths,
  frameworksLoaded: Object.keys(require.cache).filter((k) => frameworks.test(k)),
}));
`;
}

export function checkBareCjs(check, name, out) {
  const got = JSON.parse(out);
  check(
    `${name}: no agent framework is installed`,
    got.installed.length === 0,
    got.installed.join(', '),
  );
  check(
    `${name}: require('nestjs-provenance') loads no agent framework`,
    got.rootLoads === true && got.afterRoot.length === 0,
    got.afterRoot.join(', '),
  );
  for (const [sub, want] of Object.entries(WITHOUT_FRAMEWORKS)) {
    const seen = got.subpaths[sub];
    const detail = JSON.stringify(seen);
    if (want.loads) {
      check(
        `${name}: nestjs-provenance/${sub} loads without its framework`,
        seen.loads === true && seen.functions.length > 0,
        detail,
      );
    } else {
      check(
        `${name}: nestjs-provenance/${sub} without its framework fails with MODULE_NOT_FOUND naming ${want.names}`,
        seen.loads === false &&
          seen.code === 'MODULE_NOT_FOUND' &&
          seen.message.includes(`'${want.names}`),
        detail,
      );
    }
  }
  check(
    `${name}: loading the sub-paths loaded no framework either`,
    got.frameworksLoaded.length === 0,
    got.frameworksLoaded.join(', '),
  );
}

/** ES module, with ai, @modelcontextprotocol/sdk and zod installed: one AI SDK tool gated end to end. */
export function frameworksEsmSource(policy) {
  return `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceModule, ProvenanceGateway } from 'nestjs-provenance';
import { provenanceTools } from 'nestjs-provenance/ai';
import { guardMcpServer } from 'nestjs-provenance/mcp';
import { tool } from 'ai';
import { z } from 'zod';

const policy = ${JSON.stringify(policy)};
class AppModule {}
Module({ imports: [ProvenanceModule.forRoot({ agentId: 'smoke-agent', policy, audit: { store: 'memory' } })] })(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const gateway = app.get(ProvenanceGateway);
let runs = 0;
const tools = provenanceTools(
  gateway,
  {
    payments_initiate: tool({
      description: 'Pay',
      inputSchema: z.object({ amount: z.number() }),
      execute: async ({ amount }) => { runs++; return { paid: amount }; },
    }),
  },
  { actions: { payments_initiate: 'payments.initiate' } },
);
const output = await tools.payments_initiate.execute({ amount: 5 }, { toolCallId: 'c1', messages: [] });
const events = await gateway.audit.list({});
await app.close();
console.log(JSON.stringify({
  provenanceTools: typeof provenanceTools,
  guardMcpServer: typeof guardMcpServer,
  output,
  runs,
  events: events.map((e) => ({ kind: e.kind, action: e.action, decision: e.decision, parameters: JSON.stringify(e.parameters) })),
  recorded: JSON.stringify(events),
}));
`;
}

export function checkFrameworksEsm(check, name, out) {
  const got = JSON.parse(out);
  const detail = JSON.stringify({ ...got, recorded: undefined });
  check(
    `${name}: nestjs-provenance/ai and /mcp export provenanceTools and guardMcpServer`,
    got.provenanceTools === 'function' && got.guardMcpServer === 'function',
    detail,
  );
  check(
    `${name}: a gated AI SDK tool runs on ALLOW and its value comes back`,
    got.runs === 1 && JSON.stringify(got.output) === '{"paid":5}',
    detail,
  );
  const [event] = got.events;
  check(
    `${name}: the audit holds one ALLOW with the tool's input only`,
    got.events.length === 1 &&
      event.action === 'payments.initiate' &&
      event.decision === 'ALLOW' &&
      event.parameters === '{"amount":5}' &&
      !/toolCallId|messages|"c1"/.test(got.recorded),
    detail,
  );
}
