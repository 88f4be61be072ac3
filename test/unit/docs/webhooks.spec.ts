import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Module, type INestApplication, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import * as ts from 'typescript';
import * as library from '../../../lib';
import { ProvenanceGateway, ProvenanceModule, ProvenanceReviewer } from '../../../lib';

/*
 * docs/webhooks.md is checked against the code: its TypeScript examples
 * typecheck against the public API, and its Slack receiver, taken from the
 * page as it is, runs: a gateway posts to it, it verifies and forwards to a
 * stand-in for Slack's incoming webhook, and it refuses a forged post.
 */

const ROOT = path.join(__dirname, '../../..');
const DOC = 'docs/webhooks.md';
const markdown = readFileSync(path.join(ROOT, DOC), 'utf8');
const tsBlocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({
  body: m[1],
  line: markdown.slice(0, m.index).split('\n').length,
}));
const SECRET = 'whsec_docs_0123456789abcdef';

describe(`${DOC}: its examples`, () => {
  it('has examples, and every value they import is exported by the package', () => {
    expect(tsBlocks.length).toBeGreaterThanOrEqual(3);
    for (const { body } of tsBlocks) {
      for (const m of body.matchAll(/import\s*\{([^}]*)\}\s*from 'nestjs-provenance'/g)) {
        for (const name of m[1].split(',').map((n) => n.trim())) {
          if (name !== '' && !name.startsWith('type ')) expect(library).toHaveProperty(name);
        }
      }
    }
  });

  it('typecheck against the public API', () => {
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      baseUrl: ROOT,
      paths: { 'nestjs-provenance': ['lib/index.ts'] },
    };
    const virtual = new Map(
      tsBlocks.map((b) => [path.join(ROOT, 'docs', `webhooks.md.line-${b.line}.ts`), b.body]),
    );
    const host = ts.createCompilerHost(options);
    const { readFile, fileExists, getSourceFile } = host;
    host.readFile = (f) => virtual.get(path.resolve(f)) ?? readFile.call(host, f);
    host.fileExists = (f) => virtual.has(path.resolve(f)) || fileExists.call(host, f);
    host.getSourceFile = (f, language, onError, fresh) => {
      const text = virtual.get(path.resolve(f));
      return text === undefined
        ? getSourceFile.call(host, f, language, onError, fresh)
        : ts.createSourceFile(f, text, language, true);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems = [...virtual.keys()].flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ].map(
        (d) =>
          `${path.basename(file)}:${source.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` +
          ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      );
    });
    expect(problems).toEqual([]);
  }, 120_000);
});

/** The Slack receiver block of the page, compiled and loaded as a module. */
function loadSlackExample(): { ProvenanceToSlackController: new () => unknown } {
  const block = tsBlocks.find((b) => b.body.includes('class ProvenanceToSlackController'));
  if (block === undefined) throw new Error(`${DOC} has no Slack receiver example`);
  const js = ts.transpileModule(block.body, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
    },
  }).outputText;
  const module = { exports: {} as Record<string, unknown> };
  const load = (id: string): unknown => (id === 'nestjs-provenance' ? library : require(id));
  new Function('require', 'exports', 'module', js)(load, module.exports, module);
  return module.exports as { ProvenanceToSlackController: new () => unknown };
}

describe(`${DOC}: the Slack receiver`, () => {
  const texts: string[] = [];
  let slack: Server;
  let bridge: INestApplication;
  let agentApp: INestApplicationContext;
  let bridgeUrl: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        texts.push((JSON.parse(body) as { text: string }).text);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    process.env.SLACK_WEBHOOK_URL = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T/B/x`;
    process.env.PROVENANCE_WEBHOOK_SECRET = SECRET;

    const { ProvenanceToSlackController } = loadSlackExample();
    @Module({ controllers: [ProvenanceToSlackController] })
    class BridgeModule {}
    bridge = await NestFactory.create(BridgeModule, { rawBody: true, logger: false });
    await bridge.listen(0, '127.0.0.1');
    bridgeUrl = `${await bridge.getUrl()}/hooks/provenance`.replace('[::1]', '127.0.0.1');

    @Module({
      imports: [
        ProvenanceModule.forRoot({
          agentId: 'billing-agent',
          policy: {
            name: 'docs',
            rules: [
              {
                action: 'payments.initiate',
                on_match: 'ESCALATE',
                reason: 'large payments need a human',
              },
            ],
          },
          audit: { store: 'memory' },
          notify: [{ url: bridgeUrl, secret: SECRET }],
        }),
      ],
    })
    class AgentModule {}
    agentApp = await NestFactory.createApplicationContext(AgentModule, { logger: false });
  });

  afterAll(async () => {
    await agentApp?.close();
    await bridge?.close();
    await new Promise((resolve) => slack?.close(resolve));
    process.env = saved;
  });

  it('forwards pending and approved to Slack as text', async () => {
    const gateway = agentApp.get(ProvenanceGateway);
    const pending = firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
    const call = gateway.execute('payments.initiate', { amount: 800 });
    const { escalationId } = await pending;
    await agentApp.get(ProvenanceReviewer).approve(escalationId, { approverId: 'carol' });
    await call;
    while (gateway.webhookStats()[0].delivered < 2) await new Promise((r) => setTimeout(r, 10));

    expect(texts).toEqual([
      `:hourglass: \`payments.initiate\` by billing-agent is waiting for approval (${escalationId}): large payments need a human`,
      `:white_check_mark: \`payments.initiate\` approved by carol (${escalationId})`,
    ]);
  });

  it('refuses a post that is not signed with the secret, and forwards nothing', async () => {
    const before = texts.length;
    const body = JSON.stringify({ deliveryId: 'whd_forged', type: 'approved', action: 'x' });
    const forged = library.signatureHeader(
      body,
      'not-the-secret-0123456789',
      Math.floor(Date.now() / 1000),
    );
    const answer = await fetch(bridgeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'provenance-signature': forged },
      body,
    });
    expect(answer.status).toBe(401);
    expect(texts).toHaveLength(before);
  });
});
