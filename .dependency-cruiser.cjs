/**
 * The layers of lib/, bottom to top, and what each may import inside lib/.
 * Node builtins and npm packages are not restricted here, except that the
 * protocol, the engine and postgres must not import @nestjs/* or rxjs.
 * Files directly in lib/ (index.ts) may import anything.
 *
 * `npm run lint` runs this: `depcruise lib --config .dependency-cruiser.cjs`.
 */
const LAYERS = {
  protocol: [],
  // OpenTelemetry (optional `@opentelemetry/api`): spans and metrics of gated calls and audit appends.
  telemetry: ['protocol'],
  engine: ['protocol', 'telemetry'],
  // Escalation webhooks (the `notify` option): signed JSON posts, below the gateway that feeds them.
  notify: ['protocol'],
  // PostgreSQL: the lazy `pg` loader, schema migrations (and the shared-state stores). Optional at run time.
  postgres: ['protocol', 'engine'],
  transport: ['protocol', 'engine'],
  session: ['protocol'],
  call: ['protocol'],
  // postgres: the transport factory builds the embedded engine on PostgreSQL (`postgres` option).
  gateway: [
    'protocol',
    'engine',
    'postgres',
    'transport',
    'session',
    'call',
    'notify',
    'telemetry',
  ],
  escalation: ['protocol', 'engine', 'transport', 'session', 'gateway'],
  guarded: ['protocol', 'call', 'session', 'gateway'],
  // ProvenanceReviewModule: the review page and API over escalation/ (never server/ or cli/).
  review: ['protocol', 'engine', 'transport', 'session', 'call', 'gateway', 'escalation'],
  module: [
    'protocol',
    'engine',
    'postgres',
    'transport',
    'session',
    'call',
    'gateway',
    'escalation',
    'guarded',
  ],
  // ProvenanceTestingModule (`nestjs-provenance/testing`): the real module on the embedded
  // engine, for an app's own tests. Above module/; nothing imports it (rule testing-apart).
  testing: ['protocol', 'engine', 'escalation', 'gateway', 'module'],
  // ProvenanceHealthIndicator (`nestjs-provenance/health`, over the optional @nestjs/terminus).
  health: ['protocol', 'engine', 'transport', 'gateway'],
  // postgres: every tenant's engine on one PostgresContext, and `/wait` on another server's escalation.
  server: ['protocol', 'engine', 'postgres', 'transport', 'notify'],
  cli: ['protocol', 'engine', 'postgres'],
  // The agent-framework adapters (`nestjs-provenance/ai`, `/langchain`, `/mcp`, `/openai-agents`):
  // over the gateway service, each in a folder of its own, loaded only by its sub-path.
  adapters: ['protocol', 'session', 'call', 'gateway', 'escalation'],
};

/** The frameworks only their adapter may load (each an optional peer dependency). */
const FRAMEWORKS =
  '(ai|@ai-sdk/[^/]+|@langchain/[^/]+|langchain|@modelcontextprotocol/sdk|@openai/agents[^/]*)';

const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => {
  const may = [layer, ...allowed].map((l) => `lib/${l}/`);
  const list = may.length > 1 ? `${may.slice(0, -1).join(', ')} and ${may.at(-1)}` : may[0];
  return {
    name: `layer-${layer}`,
    severity: 'error',
    comment:
      `Upward or sideways import: inside lib/, lib/${layer}/ may import only ${list}` +
      ' (never lib/index.ts). The layers and what each may import are in .dependency-cruiser.cjs.',
    from: { path: `^lib/${layer}/` },
    to: { path: '^lib/', pathNot: `^lib/(${[layer, ...allowed].join('|')})/` },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'protocol-engine-no-nest-no-rxjs',
      severity: 'error',
      comment:
        'lib/protocol/, lib/engine/ and lib/postgres/ must not import @nestjs/* or rxjs: the ' +
        'engine and its stores run without Nest (the CLI, the server core, plain Node).',
      from: { path: '^lib/(protocol|engine|postgres)/' },
      to: { path: '(^|/)node_modules/(@nestjs/|rxjs/)|^(@nestjs/|rxjs$|rxjs/)' },
    },
    {
      name: 'adapters-apart',
      severity: 'error',
      comment:
        'An adapter imports only the shared tool gate (lib/adapters/tool-gate/) and its own folder: ' +
        'importing nestjs-provenance/ai must never load LangChain.',
      from: { path: '^lib/adapters/([^/]+)/' },
      to: { path: '^lib/adapters/', pathNot: ['^lib/adapters/$1/', '^lib/adapters/tool-gate/'] },
    },
    {
      name: 'frameworks-only-in-their-adapter',
      severity: 'error',
      comment:
        'An agent framework is an optional peer dependency: only its adapter under lib/adapters/ may ' +
        'import it (the main entry point, lib/index.ts, never does).',
      from: { path: '^lib/', pathNot: '^lib/adapters/' },
      to: { path: `(^|/)node_modules/${FRAMEWORKS}/|^${FRAMEWORKS}($|/)` },
    },
    {
      name: 'optional-peers-in-their-layer',
      severity: 'error',
      comment:
        '@opentelemetry/* is loaded only by lib/telemetry/ (lazily, a no-op when absent) and ' +
        '@nestjs/terminus only by lib/health/ (its own sub-path): both are optional peer dependencies.',
      from: { path: '^lib/', pathNot: '^lib/(telemetry|health)/' },
      to: {
        path: '(^|/)node_modules/(@opentelemetry/|@nestjs/terminus/)|^(@opentelemetry/|@nestjs/terminus)',
      },
    },
    {
      name: 'telemetry-no-nest-no-rxjs',
      severity: 'error',
      comment: 'lib/telemetry/ is below the engine: no @nestjs/* and no rxjs.',
      from: { path: '^lib/telemetry/' },
      to: { path: '(^|/)node_modules/(@nestjs/|rxjs/)|^(@nestjs/|rxjs$|rxjs/)' },
    },
    {
      name: 'index-without-adapters',
      severity: 'error',
      comment: 'lib/index.ts must not load an adapter: each is reached by its own sub-path only.',
      from: { path: '^lib/index\\.ts$' },
      to: { path: '^lib/adapters/' },
    },
    {
      name: 'testing-apart',
      severity: 'error',
      comment:
        'lib/testing/ is reached by its own sub-path (nestjs-provenance/testing) only: nothing in ' +
        'lib/, lib/index.ts included, imports it, so production bundles never carry it.',
      from: { path: '^lib/', pathNot: '^lib/testing/' },
      to: { path: '^lib/testing/' },
    },
    {
      name: 'no-unknown-layer',
      severity: 'error',
      comment:
        `A folder of lib/ that is not one of the layers (${Object.keys(LAYERS).join(', ')}): ` +
        'add it to LAYERS in .dependency-cruiser.cjs, in its place in the order.',
      from: { path: '^lib/[^/]+/', pathNot: `^lib/(${Object.keys(LAYERS).join('|')})/` },
      to: { path: '^lib/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle inside lib/ (type-only imports count too): there must be none. ' +
        'Move the shared piece down a layer, or invert the dependency.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` and type-only re-exports are dependencies too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
