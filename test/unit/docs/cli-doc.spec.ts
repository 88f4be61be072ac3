import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../../lib/cli/main';

/*
 * docs/cli.md: each ```text transcript of `policy check` or `policy test` is
 * run (in-process, from the repository root, on the sample's files) and must
 * print exactly what the page shows, with the exit code the page gives.
 */

const ROOT = path.join(__dirname, '../../..');
const markdown = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');

function transcripts(): { line: number; command: string; expected: string[] }[] {
  const found: { line: number; command: string; expected: string[] }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```text') continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j] !== '```') body.push(lines[j++]);
    if (/^\$ npx provenance policy (check|test) /.test(body[0] ?? '')) {
      found.push({ line: i + 1, command: body[0].slice(2), expected: body.slice(1) });
    }
    i = j;
  }
  return found;
}

describe('docs/cli.md transcripts', () => {
  const cwd = process.cwd();
  beforeAll(() => process.chdir(ROOT));
  afterAll(() => process.chdir(cwd));

  it('has the transcripts this test runs', () => {
    expect(transcripts().map((t) => t.command.split(' ').slice(2, 4).join(' '))).toEqual([
      'policy check',
      'policy test',
      'policy test',
    ]);
  });

  it.each(transcripts().map((t) => [t.line, t.command, t.expected] as const))(
    'line %d: %s',
    async (_line, command, expected) => {
      const out: string[] = [];
      const argv = command.split(' ').slice(2);
      const code = await runCli(argv, {
        out: (text) => out.push(...text.split('\n')),
        err: (text) => out.push(...text.split('\n')),
      });
      expect(out).toEqual(expected);
      // The page says which: the sample's own cases pass, the candidate fails four.
      expect(code).toBe(argv.includes('sample/demo/candidate-policy.yml') ? 1 : 0);
    },
  );
});
