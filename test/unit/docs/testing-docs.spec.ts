import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/*
 * docs/testing.md shows three files whole. They are the files of
 * test/e2e/testing/docs-example/, which the suite runs, with the package's
 * import specifiers in place of the repository's relative ones: so what a
 * reader copies is what was run.
 */

const ROOT = path.join(__dirname, '../../..');
const EXAMPLES = path.join(ROOT, 'test/e2e/testing/docs-example');
const FILES = ['refunds.service.ts', 'refunds.service.spec.ts', 'refunds.http.spec.ts'];

function shownIn(markdown: string, file: string): string | undefined {
  const opening = '```ts\n// ' + file + '\n';
  const start = markdown.indexOf(opening);
  if (start < 0) return undefined;
  const end = markdown.indexOf('\n```', start + opening.length);
  return markdown.slice(start + opening.length, end + 1);
}

function asPublished(source: string): string {
  return source
    .replaceAll("from '../../../../lib/testing'", "from 'nestjs-provenance/testing'")
    .replaceAll("from '../../../../lib'", "from 'nestjs-provenance'");
}

describe('docs/testing.md examples', () => {
  const markdown = readFileSync(path.join(ROOT, 'docs/testing.md'), 'utf8');

  it.each(FILES)('shows %s as the suite runs it', (file) => {
    const shown = shownIn(markdown, file);
    expect(shown).toBeDefined();
    const source = readFileSync(path.join(EXAMPLES, file), 'utf8');
    expect(source).toContain('../../../../lib');
    expect(shown).toBe(asPublished(source));
  });

  it('the examples import only the published entry points', () => {
    for (const file of FILES) {
      const imports = [...(shownIn(markdown, file) ?? '').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1],
      );
      for (const specifier of imports) {
        expect(specifier).toMatch(/^(nestjs-provenance(\/testing)?|@nestjs\/[a-z]+|\.\/[a-z.]+)$/);
      }
    }
  });
});
