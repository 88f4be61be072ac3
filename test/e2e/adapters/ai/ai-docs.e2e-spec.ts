import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { AiAdapterMessages } from '../../../../lib/adapters/ai/ai.messages';
import { AdapterMessages } from '../../../../lib/adapters/tool-gate/adapter.messages';

const ROOT = path.resolve(__dirname, '../../../..');
const DOC = path.join(ROOT, 'docs/integrations/ai.md');
const text = readFileSync(DOC, 'utf8');
const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);

// Any AI SDK provider: the example's model, declared (no provider package is installed).
const PROVIDER_STUB = `import type { LanguageModel } from 'ai';
export declare function openai(modelId: string): LanguageModel;`;

describe('docs/integrations/ai.md', () => {
  it('its examples typecheck against nestjs-provenance and nestjs-provenance/ai (strict, as the project)', () => {
    // The held example, then the deferred one.
    expect(blocks).toHaveLength(2);
    const parsed = ts.getParsedCommandLineOfConfigFile(
      path.join(ROOT, 'tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (parsed === undefined) throw new Error('tsconfig.json cannot be read');
    const stub = path.join(ROOT, 'docs/integrations/ai-sdk-openai.stub.ts');
    const examples = blocks.map((_, i) =>
      path.join(ROOT, `docs/integrations/ai.md.example${i}.ts`),
    );
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      declaration: false,
      sourceMap: false,
      types: ['node'],
      baseUrl: ROOT,
      paths: {
        'nestjs-provenance': ['lib/index.ts'],
        'nestjs-provenance/ai': ['lib/adapters/ai/index.ts'],
        '@ai-sdk/openai': [path.relative(ROOT, stub)],
      },
    };
    const virtual = new Map([
      ...examples.map((file, i) => [file, blocks[i]] as [string, string]),
      [stub, PROVIDER_STUB],
    ]);
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (file) => virtual.get(path.resolve(file)) ?? readFile(file);
    host.fileExists = (file) => virtual.has(path.resolve(file)) || fileExists(file);
    host.getSourceFile = (file, language, onError, fresh) => {
      const source = virtual.get(path.resolve(file));
      return source === undefined
        ? getSourceFile(file, language, onError, fresh)
        : ts.createSourceFile(file, source, language, true);
    };
    const program = ts.createProgram(examples, options, host);
    const problems = examples.flatMap((example, i) => {
      const source = program.getSourceFile(example)!;
      return [
        ...program.getSyntacticDiagnostics(source),
        ...program.getSemanticDiagnostics(source),
      ].map((d) => {
        const line =
          d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
        return `example ${i + 1}, line ${line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    });
    expect(problems).toEqual([]);
  }, 60_000);

  it('quotes the texts the model reads as the adapter writes them', () => {
    expect(text).toContain(AdapterMessages.gatewayFailed());
    expect(text).toContain("The call of 'data.delete' was refused and the tool did not run: ");
    const unwrapped = text.replace(/\s+/g, ' ');
    expect(unwrapped).toContain(AiAdapterMessages.notApproved());
  });
});
