import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../../lib/cli/main';
import { compilePolicy, lintPolicy, PolicyValidationError } from '../../../lib/engine';

/*
 * The policies the documentation shows are evaluated by the real engine, so a
 * reader who copies one gets the decisions and reasons the text promises.
 */

const ROOT = path.join(__dirname, '../../..');

interface FencedBlock {
  /** The info string after the opening fence (`yaml`, `json`, ...). */
  info: string;
  body: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
}

function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]);
    if (open === null) continue;
    const fence = open[2];
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j].trim().startsWith(fence)) body.push(lines[j++]);
    blocks.push({ info: open[3].toLowerCase(), body: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

describe('README quick start: policy.yml', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = fencedBlocks(readme).find(
    (candidate) => candidate.info === 'yaml' && /^#\s*policy\.yml\s*$/m.test(candidate.body),
  );

  it('is in the README', () => {
    expect(block).toBeDefined();
  });

  const policy = () => compilePolicy(parseYaml(block!.body) as object);
  const payment = (amount: number, currency = 'GBP') => ({
    amount,
    currency,
    recipient_id: 'rec_abc123',
  });

  it('compiles, with no lint error', () => {
    expect(() => policy()).not.toThrow();
    const errors = lintPolicy(parseYaml(block!.body) as object).filter(
      (finding) => finding.severity === 'error',
    );
    expect(errors).toEqual([]);
  });

  it('ALLOWs a 50 GBP payment, with a reason that does not ask for a human', () => {
    const decision = policy().evaluate('payments.initiate', payment(50));
    expect(decision.decision).toBe('ALLOW');
    expect(decision.reason).not.toMatch(/human/i);
    expect(decision.reason).not.toMatch(/over 500|another currency/i);
  });

  it('ESCALATEs a 900 GBP payment, saying a human is needed', () => {
    const decision = policy().evaluate('payments.initiate', payment(900));
    expect(decision.decision).toBe('ESCALATE');
    expect(decision.reason).toMatch(/need a human/i);
  });

  it('ESCALATEs a payment in another currency, saying a human is needed', () => {
    const decision = policy().evaluate('payments.initiate', payment(50, 'JPY'));
    expect(decision.decision).toBe('ESCALATE');
    expect(decision.reason).toMatch(/need a human/i);
  });

  it('BLOCKs data.* actions', () => {
    const decision = policy().evaluate('data.delete', { table: 'users' });
    expect(decision.decision).toBe('BLOCK');
    expect(decision.reason).toMatch(/data/i);
  });

  it('ALLOWs email.send', () => {
    expect(policy().evaluate('email.send', { to: 'customer@example.com' }).decision).toBe('ALLOW');
  });

  it('BLOCKs an action it does not name, "Not on the allow list"', () => {
    expect(policy().evaluate('shell.exec', { command: 'rm -rf /' })).toMatchObject({
      decision: 'BLOCK',
      reason: 'Not on the allow list',
    });
  });
});

/*
 * docs/policy.md: every ```yaml and ```json block is a whole policy document.
 * In a YAML block,
 *   # refused: <text>
 * means the engine must refuse it with an error containing <text>; otherwise
 * it must compile, and each line of the form
 *   # <action> <parameters as JSON> → <DECISION> "<reason>"
 * (the reason is optional) is a decision the engine must give.
 */
describe('docs/policy.md examples', () => {
  const markdown = readFileSync(path.join(ROOT, 'docs/policy.md'), 'utf8');
  const blocks = fencedBlocks(markdown).filter(
    (block) => block.info === 'yaml' || block.info === 'json',
  );

  it('has policy examples', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  const CASE = /^#\s+(\S+)\s+(\{.*\}|null)\s+→\s+(ALLOW|BLOCK|ESCALATE)(?:\s+"(.*)")?\s*$/;
  const REFUSED = /^#\s+refused:\s+(.+?)\s*$/;

  for (const block of blocks) {
    const lines = block.body.split('\n').map((line) => line.trim());
    const refused = lines.map((line) => REFUSED.exec(line)).find((match) => match !== null);
    const cases = lines.map((line) => CASE.exec(line)).filter((match) => match !== null);
    const parse = () =>
      (block.info === 'json' ? JSON.parse(block.body) : parseYaml(block.body)) as object;

    if (refused) {
      it(`line ${block.line}: is refused with "${refused[1]}"`, () => {
        let error: unknown = null;
        try {
          compilePolicy(parse());
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(PolicyValidationError);
        expect((error as Error).message).toContain(refused[1]);
      });
      continue;
    }

    it(`line ${block.line}: compiles`, () => {
      expect(() => compilePolicy(parse())).not.toThrow();
    });

    for (const [, action, params, decision, reason] of cases) {
      it(`line ${block.line}: ${action} ${params} → ${decision}${reason ? ` "${reason}"` : ''}`, () => {
        const parameters = JSON.parse(params) as Record<string, unknown> | null;
        const got = compilePolicy(parse()).evaluate(action, parameters);
        expect(got.decision).toBe(decision);
        if (reason !== undefined) expect(got.reason).toBe(reason);
      });
    }
  }
});

/*
 * docs/policy.md: a ```text block that starts with `$ npx provenance policy ...`
 * shows what the CLI prints. The file it names is the ```yaml block whose first
 * line is `# <file>`; the command runs in-process and must print exactly the
 * rest of the block (stdout and stderr together, in order).
 */
describe('docs/policy.md CLI transcripts', () => {
  const markdown = readFileSync(path.join(ROOT, 'docs/policy.md'), 'utf8');
  const blocks = fencedBlocks(markdown);
  const transcripts = blocks.filter(
    (block) => block.info === 'text' && block.body.startsWith('$ npx provenance policy '),
  );
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'docs-policy-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('has transcripts', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(2);
  });

  /** Splits a command line on spaces, keeping single-quoted words whole. */
  const words = (line: string): string[] =>
    [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]);

  for (const transcript of transcripts) {
    const [command, ...expected] = transcript.body.split('\n');
    it(`line ${transcript.line}: ${command}`, async () => {
      const argv = words(command.slice('$ npx provenance '.length));
      const file = argv[2];
      const source = blocks.find(
        (block) => block.info === 'yaml' && block.body.split('\n')[0].trim() === `# ${file}`,
      );
      expect(source).toBeDefined();
      const absolute = path.join(dir, file);
      writeFileSync(absolute, source!.body);
      argv[2] = absolute;
      const printed: string[] = [];
      const line = (text: string) => printed.push(text.split(`${dir}${path.sep}`).join(''));
      await runCli(argv, { out: line, err: line });
      expect(printed).toEqual(expected);
    });
  }
});
