/*
 * Issue 7, item 4: a broken policy file stops the Nest app at start-up, and
 * the error names the file, the rule and the field, so that the fix is one
 * edit away. Files are written for real in a temp dir; the app is a real
 * NestFactory context (abortOnError: false, so start-up rejects instead of exiting).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenanceError } from '../../lib/protocol/provenance.errors';
import { PolicyValidationError } from '../../lib/engine/policy/policy.errors';
import { bootToolApp, rejectionOf } from './reliability.fixture';

interface BadPolicy {
  name: string;
  file: string;
  content: string;
  ruleIndex: number | null;
  field: string;
  line?: number;
  problem: RegExp;
}

const GOOD_RULE = "  - action: 'payments.*'\n    on_match: ALLOW\n";

const CASES: BadPolicy[] = [
  {
    name: 'invalid YAML (an unclosed flow list)',
    file: 'broken.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  - action: 'x'\n    on_match: [ALLOW\n`,
    ruleIndex: null,
    field: '',
    problem: /^invalid YAML at line \d+/,
  },
  {
    name: 'invalid JSON',
    file: 'broken.json',
    content: '{"name": "p", "rules": [ {"action": "a", "on_match": "ALLOW"}, ]}',
    ruleIndex: null,
    field: '',
    problem: /^invalid JSON.*Unexpected token '\]'/,
  },
  {
    name: 'rules is not a list',
    file: 'rules-string.yml',
    content: 'name: p\nrules: allow everything\n',
    ruleIndex: null,
    field: 'rules',
    problem: /must be a list of rules; got/,
  },
  {
    name: 'an outcome of the wrong type',
    file: 'outcome-number.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  - action: 'email.*'\n    on_match: 5\n`,
    ruleIndex: 1,
    field: 'rules[1].on_match',
    problem: /must be one of ALLOW, BLOCK, ESCALATE .*got number 5/,
  },
  {
    name: 'a lower-case outcome word',
    file: 'outcome-case.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  - action: 'email.*'\n    on_match: allow\n`,
    ruleIndex: 1,
    field: 'rules[1].on_match',
    problem: /upper case/,
  },
  {
    name: 'conditions that are not a list',
    file: 'conditions-map.yml',
    content: `name: p\nrules:\n${GOOD_RULE}${GOOD_RULE}  - action: 'a'\n    conditions: {field: amount}\n    on_match: BLOCK\n`,
    ruleIndex: 2,
    field: 'rules[2].conditions',
    problem: /must be a list of conditions/,
  },
  {
    name: 'an unknown operator',
    file: 'operator.yml',
    content:
      `name: p\nrules:\n${GOOD_RULE}  - action: 'payments.initiate'\n    conditions:\n` +
      '      - field: amount\n        operator: gte\n        value: 5\n    on_violation: BLOCK\n',
    ruleIndex: 1,
    field: 'rules[1].conditions[0].operator',
    problem: /unknown operator 'gte'/,
  },
  {
    name: 'an empty rule (null entry)',
    file: 'null-rule.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  -\n`,
    ruleIndex: 1,
    field: 'rules[1]',
    problem: /must be a mapping/,
  },
  {
    name: 'an empty rule ({})',
    file: 'empty-rule.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  - {}\n`,
    ruleIndex: 1,
    field: 'rules[1].action',
    problem: /missing 'action'/,
  },
  {
    name: 'a rule that can never decide (no outcome)',
    file: 'no-outcome.yml',
    content: `name: p\nrules:\n${GOOD_RULE}  - action: 'email.*'\n    reason: forgot the outcome\n`,
    ruleIndex: 1,
    field: 'rules[1]',
    problem: /could never decide/,
  },
  {
    name: 'a condition without a value',
    file: 'no-value.json',
    content: JSON.stringify({
      name: 'p',
      rules: [{ action: 'a', conditions: [{ field: 'x', operator: '==' }], on_match: 'BLOCK' }],
    }),
    ruleIndex: 0,
    field: 'rules[0].conditions[0].value',
    problem: /missing 'value'/,
  },
  {
    name: 'no rules key at all',
    file: 'no-rules.yml',
    content: 'name: p\n',
    ruleIndex: null,
    field: 'rules',
    problem: /missing 'rules'/,
  },
];

describe('bad policy files refuse start-up (item 4)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-policy-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, bad) => {
    const file = join(dir, bad.file);
    writeFileSync(file, bad.content);

    const error = await rejectionOf(
      bootToolApp({ agentId: 'agent-policy', policy: file, audit: { store: 'memory' } }),
    );

    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error).toBeInstanceOf(ProvenanceError);
    const invalid = error as PolicyValidationError;
    expect({ file: invalid.file, ruleIndex: invalid.ruleIndex, field: invalid.field }).toEqual({
      file,
      ruleIndex: bad.ruleIndex,
      field: bad.field,
    });
    expect(invalid.problem).toMatch(bad.problem);
    // One line that points at the fix: `<file>: <field>: <problem>`.
    expect(invalid.message).toBe(
      [file, bad.field, invalid.problem].filter((part) => part !== '').join(': '),
    );
  });

  it('a missing policy file is named', async () => {
    const file = join(dir, 'nowhere.yml');
    const error = await rejectionOf(bootToolApp({ agentId: 'agent-policy', policy: file }));
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error.message).toBe(
      `${file}: cannot read the policy file: no such file ` +
        `(looked for ${file}; the working directory is ${process.cwd()})`,
    );
  });

  it('an empty rules list refuses start-up: it would ALLOW every action by default', async () => {
    // The engine accepts an empty document (`provenance policy check` warns);
    // a gate built on one would fail open by configuration, so the module refuses it.
    const file = join(dir, 'empty-list.yml');
    writeFileSync(file, 'name: nothing\nrules: []\n');
    const error = await rejectionOf(
      bootToolApp({ agentId: 'agent-policy', policy: file, audit: { store: 'memory' } }),
    );
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('rules');
    expect(error.message).toContain('ALLOWed by default');
  });

  it('allowEmptyPolicy: true is the explicit way to get the reference behaviour (default ALLOW)', async () => {
    const file = join(dir, 'empty-allowed.yml');
    writeFileSync(file, 'name: nothing\nrules: []\n');
    const booted = await bootToolApp({
      agentId: 'agent-policy',
      policy: file,
      audit: { store: 'memory' },
      allowEmptyPolicy: true,
    });
    try {
      const result = await booted.gateway.execute('data.drop_all_tables', {});
      expect(result).toMatchObject({ decision: 'ALLOW', reason: 'No rule matched; default ALLOW' });
    } finally {
      await booted.app.close();
    }
  });
});
