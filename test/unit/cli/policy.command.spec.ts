import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIO } from '../../../lib/cli/cli.io';
import { runCli } from '../../../lib/cli/main';

// In-process through runCli; running the built `provenance` bin as a child
// process belongs to the packaging test (it needs dist/ built).
const FIXTURES = path.join(__dirname, '../../fixtures/policies');
const PAYMENTS = path.join(FIXTURES, 'payments.yml');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe('provenance policy check', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-cli-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 for a valid policy with no findings', async () => {
    const { code, out, err } = await run('policy', 'check', PAYMENTS);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(`${PAYMENTS}: policy 'payments', 6 rules: 0 errors, 0 warnings`);
    expect(out[1]).toMatch(
      new RegExp(`^${escapeRegExp(PAYMENTS)}: version 0\\.1, sha256 [0-9a-f]{64}$`),
    );
  });

  it('prints the hash of the document: the same for YAML and JSON spellings, another for an edit', async () => {
    const hashOf = async (file: string) => {
      const { code, out } = await run('policy', 'check', file);
      expect(code).toBe(0);
      return /sha256 ([0-9a-f]{64})$/.exec(out[out.length - 1])?.[1];
    };
    const yamlFile = path.join(dir, 'same.yml');
    const jsonFile = path.join(dir, 'same.json');
    const rules = [{ action: '*', on_match: 'BLOCK', reason: 'no' }];
    fs.writeFileSync(
      yamlFile,
      "name: same\nrules:\n  - { action: '*', on_match: BLOCK, reason: 'no' }\n",
    );
    fs.writeFileSync(jsonFile, JSON.stringify({ rules, name: 'same' }, null, 4));
    const yamlHash = await hashOf(yamlFile);
    expect(yamlHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashOf(jsonFile)).toBe(yamlHash);
    fs.writeFileSync(
      jsonFile,
      JSON.stringify({ name: 'same', rules: [{ ...rules[0], reason: 'No' }] }),
    );
    expect(await hashOf(jsonFile)).not.toBe(yamlHash);
    const { out } = await run('policy', 'check', yamlFile);
    expect(out[1]).toContain(': version (none), sha256 ');
  });

  it('exits 0 with warnings, 1 with --strict', async () => {
    const file = path.join(FIXTURES, 'lint-findings.yml');
    const lenient = await run('policy', 'check', file);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toHaveLength(6);
    expect(lenient.out[0]).toBe(
      `${file}: rules[1]: warning: unreachable: rules[0] ('reports.*') decides every action that 'reports.daily' matches before this rule is reached`,
    );
    expect(lenient.out[4]).toBe(`${file}: policy 'lint-findings', 4 rules: 0 errors, 4 warnings`);
    expect((await run('policy', 'check', file, '--strict')).code).toBe(1);
    expect(
      (await run('policy', 'check', path.join(FIXTURES, 'empty-rules.yml'), '--strict')).code,
    ).toBe(1);
  });

  it('exits 1 on lint errors, which go to stderr', async () => {
    const file = path.join(dir, 'never.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { action: 'x', on_violation: 'BLOCK' },
          { action: '*', on_match: 'BLOCK' },
        ],
      }),
    );
    const { code, err, out } = await run('policy', 'check', file);
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}: rules[0]: error: ${'on_violation can never apply to a rule without conditions, and there is no on_match: the rule never decides'}`,
    ]);
    expect(out[0]).toBe(`${file}: policy 'never', 2 rules: 1 error, 0 warnings`);
    expect(out[1]).toMatch(/: version \(none\), sha256 [0-9a-f]{64}$/);
  });

  it('exits 2 for an invalid file, naming file, rule and field', async () => {
    const file = path.join(FIXTURES, 'invalid-operator.yml');
    const { code, err, out } = await run('policy', 'check', file);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `${file}: rules[2].conditions[0].operator: unknown operator 'gte' (expected one of == != < > <= >= in not_in, or aliases eq ne lt gt le ge)`,
    ]);
    expect((await run('policy', 'check', path.join(dir, 'missing.yml'))).code).toBe(2);
  });

  it.each([
    [['policy', 'check']],
    [['policy', 'check', 'a.yml', 'b.yml']],
    [['policy', 'check', PAYMENTS, '--fast']],
    [['policy']],
    [['policy', 'lint', PAYMENTS]],
    [['nope']],
    [[]],
  ])('exits 2 on a usage error: %j', async (argv) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('Usage:');
  });

  it.each([[['--help']], [['policy', '--help']], [['policy', 'explain', '--help']]])(
    'prints help and exits 0: %j',
    async (argv) => {
      const { code, out } = await run(...argv);
      expect(code).toBe(0);
      expect(out.join('\n')).toContain('provenance policy explain FILE ACTION [PARAMS_JSON]');
    },
  );
});

describe('provenance policy explain', () => {
  it('exits 0 for ALLOW, 3 for BLOCK, 4 for ESCALATE', async () => {
    expect(
      (
        await run(
          'policy',
          'explain',
          PAYMENTS,
          'payments.initiate',
          '{"currency":"GBP","amount":50}',
        )
      ).code,
    ).toBe(0);
    expect((await run('policy', 'explain', PAYMENTS, 'data.delete')).code).toBe(3);
    expect(
      (await run('policy', 'explain', PAYMENTS, 'payments.initiate', '{"currency":"JPY"}')).code,
    ).toBe(4);
  });

  it('prints each rule considered and the decision', async () => {
    const { code, out } = await run(
      'policy',
      'explain',
      PAYMENTS,
      'payments.initiate',
      '{"currency":"GBP","amount":900}',
    );
    expect(code).toBe(4);
    expect(out).toEqual([
      `policy: payments (${PAYMENTS}), 6 rules`,
      'action: payments.initiate',
      'parameters: {"currency":"GBP","amount":900}',
      '  [0] data.*             action does not match',
      '  [1] payments.initiate  conditions pass; no on_match → next rule',
      '  [2] payments.initiate  conditions[0] amount <= 500 failed (got 900) → ESCALATE',
      '  [3] payments.initiate  not reached (decided above)',
      '  [4] email.send         not reached (decided above)',
      '  [5] *                  not reached (decided above)',
      'decision: ESCALATE (rules[2])',
      'reason: Condition failed: amount <= 500 failed (got 900)',
    ]);
  });

  it('explains the default ALLOW', async () => {
    const file = path.join(FIXTURES, 'empty-rules.yml');
    const { code, out } = await run('policy', 'explain', file, 'anything', 'null');
    expect(code).toBe(0);
    expect(out.slice(-2)).toEqual([
      'decision: ALLOW (no rule decided: default)',
      'reason: No rule matched; default ALLOW',
    ]);
  });

  it('prints the explanation as JSON with --json', async () => {
    const { code, out } = await run('policy', 'explain', '--json', PAYMENTS, 'email.send');
    expect(code).toBe(0);
    const parsed = JSON.parse(out.join('\n'));
    expect(parsed).toMatchObject({ action: 'email.send', decision: 'ALLOW', ruleIndex: 4 });
    expect(parsed.rules).toHaveLength(6);
  });

  it.each([
    [['policy', 'explain', PAYMENTS]],
    [['policy', 'explain', PAYMENTS, 'a', '{bad json']],
    [['policy', 'explain', PAYMENTS, 'a', '[1,2]']],
    [['policy', 'explain', PAYMENTS, 'a', '"text"']],
    [['policy', 'explain', PAYMENTS, 'a', '{}', 'extra']],
    [['policy', 'explain', PAYMENTS, 'a', '--verbose']],
    [['policy', 'explain', path.join(FIXTURES, 'invalid-operator.yml'), 'a']],
  ])('exits 2 on bad arguments or an invalid file: %j', async (argv) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.length).toBeGreaterThan(0);
  });
});
