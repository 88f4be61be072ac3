/*
 * `provenance policy test POLICY CASES.yml` as a child process: 0 when every
 * case passes, 1 with a diff for each failure, 2 for a cases file at fault
 * (naming the line, the case and the field).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliProcess } from '../../security/security.helpers';

const POLICY = path.join(__dirname, '../../../sample/policy.yml');

describe('provenance policy test (child process)', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-test-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 when every case passes: decisions, substring and /regex/ reasons, JSON too', () => {
    const cases = write(
      'pass.yml',
      `cases:
  - name: small payment
    action: payments.initiate
    params: { amount: 50, currency: GBP }
    expect: ALLOW
    reason: within approved
  - action: payments.initiate
    params: { amount: 800, currency: GBP }
    expect: ESCALATE
    reason: /^payments over 500/i
  - action: data.delete
    expect: BLOCK
  - action: shell.exec
    params: null
    expect: BLOCK
    reason: blocked by default
`,
    );
    const run = runCliProcess(['policy', 'test', POLICY, cases]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^policy 'sample-agent' version 1 \(sha256 [0-9a-f]{12}\) against /);
    expect(lines.slice(1, 5).every((line) => line.startsWith('PASS cases['))).toBe(true);
    expect(lines[1]).toBe(
      'PASS cases[0] small payment: payments.initiate {"amount":50,"currency":"GBP"}',
    );
    expect(lines[5]).toBe('4 cases: 4 passed, 0 failed');

    const json = write(
      'pass.json',
      JSON.stringify([{ action: 'email.send', params: { to: 'x' }, expect: 'ALLOW' }]),
    );
    expect(runCliProcess(['policy', 'test', POLICY, json]).status).toBe(0);
  });

  it('exits 1 with a diff for a wrong decision and for a wrong reason; --quiet keeps only failures', () => {
    const cases = write(
      'fail.yml',
      `- name: big payment runs alone
  action: payments.initiate
  params: { amount: 800, currency: GBP }
  expect: ALLOW
- name: deletion reason
  action: data.delete
  expect: BLOCK
  reason: never allowed
- action: email.send
  expect: ALLOW
`,
    );
    const run = runCliProcess(['policy', 'test', POLICY, cases]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      [
        'FAIL cases[0] big payment runs alone: payments.initiate {"amount":800,"currency":"GBP"}',
        '       - expect: ALLOW',
        '       + actual: ESCALATE (rules[1])',
        '         reason: "Payments over 500 need human approval"',
        'FAIL cases[1] deletion reason: data.delete {}',
        '         decision: BLOCK (rules[4]), as expected',
        '       - reason containing "never allowed"',
        '       + reason: "Agents may not modify stored data (data.* is blocked)"',
        'PASS cases[2]: email.send {}',
        '3 cases: 1 passed, 2 failed',
      ].join('\n'),
    );
    const quiet = runCliProcess(['policy', 'test', POLICY, cases, '--quiet']);
    expect(quiet.status).toBe(1);
    expect(quiet.stdout).not.toContain('PASS');
    expect(quiet.stdout).toContain('FAIL cases[1]');
  });

  it.each([
    [
      'cases:\n  - action: x\n    expect: allow\n',
      ':2: cases[0].expect: must be ALLOW, BLOCK or ESCALATE',
    ],
    [
      'cases:\n  - action: x\n    expect: BLOCK\n  - expect: BLOCK\n',
      ':4: cases[1].action: missing',
    ],
    [
      'cases:\n  - action: x\n    expct: BLOCK\n',
      'cases[0].expct: unknown key (expected one of name, action, params, expect, reason)',
    ],
    [
      'cases:\n  - action: x\n    expect: BLOCK\n    params: [1]\n',
      'cases[0].params: must be an object',
    ],
    [
      'cases:\n  - action: x\n    expect: BLOCK\n    reason: /(/\n',
      'cases[0].reason: not a valid /regex/',
    ],
    ['cases: []\n', "'cases' is empty"],
    ['rules: []\n', "unknown key 'rules'"],
    ['cases: [\n', 'not valid YAML or JSON'],
    [
      'cases:\n  - { name: a, action: x, expect: BLOCK }\n  - { name: a, action: y, expect: BLOCK }\n',
      "cases[1].name: 'a' is also the name of cases[0]",
    ],
  ])('exits 2 for a bad cases file, naming where: %j', (text, message) => {
    const cases = write('bad.yml', text);
    const run = runCliProcess(['policy', 'test', POLICY, cases]);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${cases}`);
    expect(run.stderr).toContain(message);
  });

  it('exits 2 for a missing cases file, an invalid policy, or bad usage', () => {
    expect(runCliProcess(['policy', 'test', POLICY, path.join(dir, 'none.yml')]).status).toBe(2);
    const cases = write('one.yml', 'cases:\n  - { action: x, expect: BLOCK }\n');
    const badPolicy = write('bad-policy.yml', 'rules:\n  - action: x\n    on_match: allow\n');
    const invalid = runCliProcess(['policy', 'test', badPolicy, cases]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain('rules[0].on_match');
    const usage = runCliProcess(['policy', 'test', POLICY]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('provenance policy test FILE CASES.yml [--quiet]');
    expect(usage.stderr).toContain(
      'provenance policy backtest FILE (AUDIT.jsonl|BUNDLE.json | --url URL',
    );
  });
});
