import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProvenanceError } from '../../../../lib/protocol/provenance.errors';
import { PolicyValidationError } from '../../../../lib/engine/policy/policy.errors';
import { loadPolicy } from '../../../../lib/engine/policy/policy.loader';

const FIXTURES = path.join(__dirname, '../../../fixtures/policies');

function validationError(fn: () => unknown): PolicyValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect(error).toBeInstanceOf(ProvenanceError);
    return error as PolicyValidationError;
  }
  throw new Error('expected a PolicyValidationError');
}

const rule = { action: 'x', on_match: 'ALLOW' };

describe('loadPolicy: files', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-loader-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it('loads YAML in the reference spelling, normalising aliases and folded reasons', () => {
    const doc = loadPolicy(path.join(FIXTURES, 'payments.yml'));
    expect(doc.name).toBe('payments');
    expect(doc.version).toBe('0.1');
    expect(doc.rules).toHaveLength(6);
    expect(doc.rules[1]).toEqual({
      action: 'payments.initiate',
      conditions: [
        { name: 'currency_check', field: 'currency', operator: 'in', value: ['GBP', 'USD', 'EUR'] },
      ],
      on_violation: 'ESCALATE',
      violation_reason: 'Currency not on the approved list.',
    });
    expect(doc.rules[2].conditions![0].operator).toBe('<=');
  });

  it('loads JSON (.json) and a .yaml extension', () => {
    expect(loadPolicy(path.join(FIXTURES, 'payments.json')).version).toBe(2);
    const file = write('p.yaml', 'name: y\nrules:\n  - action: "*"\n    on_match: BLOCK\n');
    expect(loadPolicy(file).rules[0]).toEqual({ action: '*', on_match: 'BLOCK' });
  });

  it('names the policy after the file when it has no name', () => {
    const file = write('unnamed-policy.yml', 'rules: []\n');
    expect(loadPolicy(file)).toEqual({ name: 'unnamed-policy', rules: [] });
  });

  // Syntax-error files are written here rather than kept as fixtures: a formatter would "repair" them.
  it('reports invalid YAML with its line', () => {
    const file = write(
      'broken.yml',
      'name: broken\nrules:\n  - action: "a"\n    on_match: [ALLOW\n  - action: b\n',
    );
    const error = validationError(() => loadPolicy(file));
    expect(error.file).toBe(file);
    expect(error.ruleIndex).toBeNull();
    expect(error.field).toBe('');
    expect(error.line).toBe(5);
    expect(error.message).toMatch(new RegExp(`^${escape(file)}: invalid YAML at line 5: `));
  });

  it('reports duplicate keys in YAML', () => {
    const file = write('dup.yml', 'name: a\nname: b\nrules: []\n');
    const error = validationError(() => loadPolicy(file));
    expect(error.line).toBe(2);
    expect(error.message).toContain('Map keys must be unique');
  });

  it('reports invalid JSON with line and column, not as a YAML error', () => {
    const file = write(
      'broken.json',
      '{\n  "name": "broken",\n  "rules": [\n    { "action": "a", }\n  ]\n}\n',
    );
    const error = validationError(() => loadPolicy(file));
    expect(error.line).toBe(4);
    // position 48 is the '}' after the trailing comma: line 4, column 22
    expect(error.message).toBe(
      `${file}: invalid JSON at line 4, column 22: Expected double-quoted property name`,
    );
    const empty = validationError(() => loadPolicy(write('empty.json', '')));
    expect(empty.message).toBe(
      `${path.join(dir, 'empty.json')}: invalid JSON at line 1: Unexpected end of JSON input`,
    );
  });

  it('reports a missing file and an unsupported extension', () => {
    const missing = path.join(dir, 'nope.yml');
    expect(validationError(() => loadPolicy(missing)).message).toBe(
      `${missing}: cannot read the policy file: no such file (looked for ${missing}; ` +
        `the working directory is ${process.cwd()})`,
    );
    expect(validationError(() => loadPolicy(write('p.txt', 'rules: []'))).message).toContain(
      "unsupported policy file extension '.txt'",
    );
  });

  it('rejects an empty YAML file as not a mapping', () => {
    const error = validationError(() => loadPolicy(write('blank.yml', '# nothing\n')));
    expect(error.message).toContain('a policy document must be a mapping (object); got null');
  });

  it('names file, rule and field: unknown operator', () => {
    const file = path.join(FIXTURES, 'invalid-operator.yml');
    const error = validationError(() => loadPolicy(file));
    expect(error.file).toBe(file);
    expect(error.ruleIndex).toBe(2);
    expect(error.field).toBe('rules[2].conditions[0].operator');
    expect(error.message).toBe(
      `${file}: rules[2].conditions[0].operator: unknown operator 'gte' ` +
        '(expected one of == != < > <= >= in not_in, or aliases eq ne lt gt le ge)',
    );
  });
});

describe('loadPolicy: validation of objects', () => {
  type Row = [
    label: string,
    doc: unknown,
    ruleIndex: number | null,
    field: string,
    problem: RegExp,
  ];
  const rows: Row[] = [
    [
      'a list document',
      [rule],
      null,
      '',
      /^a policy document must be a mapping \(object\); got a list$/,
    ],
    ['a string document is a path, so objects only here', 42, null, '', /got number 42/],
    ['missing rules', { name: 'p' }, null, 'rules', /^missing 'rules'/],
    [
      'rules not a list',
      { rules: { a: 1 } },
      null,
      'rules',
      /^must be a list of rules; got a mapping$/,
    ],
    [
      'a rule that is not a mapping',
      { rules: [rule, 'x'] },
      1,
      'rules[1]',
      /^a rule must be a mapping/,
    ],
    [
      'a rule without action',
      { rules: [{ on_match: 'ALLOW' }] },
      0,
      'rules[0].action',
      /^missing 'action'/,
    ],
    [
      'a non-string action',
      { rules: [{ action: 5, on_match: 'ALLOW' }] },
      0,
      'rules[0].action',
      /non-empty string; got number 5/,
    ],
    [
      'an empty action',
      { rules: [{ action: '', on_match: 'ALLOW' }] },
      0,
      'rules[0].action',
      /non-empty string; got ''/,
    ],
    [
      'lower-case outcome',
      { rules: [{ action: 'x', on_match: 'allow' }] },
      0,
      'rules[0].on_match',
      /^must be one of ALLOW, BLOCK, ESCALATE .*got 'allow'$/,
    ],
    [
      'unknown outcome',
      { rules: [rule, { action: 'x', on_violation: 'DENY' }] },
      1,
      'rules[1].on_violation',
      /got 'DENY'/,
    ],
    [
      'neither outcome',
      { rules: [rule, rule, { action: 'x', reason: 'r' }] },
      2,
      'rules[2]',
      /neither on_match nor on_violation, so it could never decide/,
    ],
    [
      'conditions not a list',
      { rules: [{ ...rule, conditions: { field: 'a' } }] },
      0,
      'rules[0].conditions',
      /^must be a list of conditions/,
    ],
    [
      'a condition that is not a mapping',
      { rules: [{ ...rule, conditions: ['a == 1'] }] },
      0,
      'rules[0].conditions[0]',
      /^a condition must be a mapping/,
    ],
    [
      'a condition without field',
      { rules: [{ ...rule, conditions: [{ operator: '==', value: 1 }] }] },
      0,
      'rules[0].conditions[0].field',
      /^missing 'field'/,
    ],
    [
      'a non-string field',
      { rules: [{ ...rule, conditions: [{ field: 3, operator: '==', value: 1 }] }] },
      0,
      'rules[0].conditions[0].field',
      /got number 3/,
    ],
    [
      'a missing operator',
      { rules: [{ ...rule, conditions: [{ field: 'a', value: 1 }] }] },
      0,
      'rules[0].conditions[0].operator',
      /^missing 'operator'/,
    ],
    [
      'an unknown operator',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'gte', value: 1 }] }] },
      0,
      'rules[0].conditions[0].operator',
      /^unknown operator 'gte' \(expected one of == != < > <= >= in not_in, or aliases eq ne lt gt le ge\)$/,
    ],
    [
      'an upper-case alias',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'EQ', value: 1 }] }] },
      0,
      'rules[0].conditions[0].operator',
      /unknown operator 'EQ'/,
    ],
    [
      'an inherited name as operator',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'toString', value: 1 }] }] },
      0,
      'rules[0].conditions[0].operator',
      /unknown operator 'toString'/,
    ],
    [
      'a non-string operator',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 1, value: 1 }] }] },
      0,
      'rules[0].conditions[0].operator',
      /unknown operator number 1/,
    ],
    [
      'a missing value',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: '==' }] }] },
      0,
      'rules[0].conditions[0].value',
      /^missing 'value'/,
    ],
    [
      'in with a number',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'in', value: 5 }] }] },
      0,
      'rules[0].conditions[0].value',
      /^'in' needs a list \(membership\) or a string \(substring\); got number 5$/,
    ],
    [
      'not_in with a mapping',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'not_in', value: { a: 1 } }] }] },
      0,
      'rules[0].conditions[0].value',
      /'not_in' needs a list/,
    ],
    [
      'in with null',
      { rules: [{ ...rule, conditions: [{ field: 'a', operator: 'in', value: null }] }] },
      0,
      'rules[0].conditions[0].value',
      /got null/,
    ],
    [
      'a non-string reason',
      { rules: [{ ...rule, reason: 5 }] },
      0,
      'rules[0].reason',
      /^must be a string; got number 5$/,
    ],
    [
      'a non-string violation_reason',
      { rules: [{ ...rule, violation_reason: ['x'] }] },
      0,
      'rules[0].violation_reason',
      /got a list/,
    ],
    ['a non-string name', { name: 5, rules: [] }, null, 'name', /^must be a string/],
    [
      'a list version',
      { version: [1], rules: [] },
      null,
      'version',
      /^must be a string or a number/,
    ],
  ];

  it.each(rows)('rejects %s', (_label, doc, ruleIndex, field, problem) => {
    const error = validationError(() => loadPolicy(doc as object));
    expect(error.file).toBeNull();
    expect(error.ruleIndex).toBe(ruleIndex);
    expect(error.field).toBe(field);
    expect(error.problem).toMatch(problem);
    expect(error.message).toBe(field === '' ? error.problem : `${field}: ${error.problem}`);
  });

  it('accepts every operator, every alias, and an empty rules list', () => {
    const operators = ['==', '!=', '<', '>', '<=', '>=', 'eq', 'ne', 'lt', 'gt', 'le', 'ge'];
    const doc = loadPolicy({
      rules: [
        {
          action: 'x',
          conditions: operators.map((operator) => ({ field: 'a', operator, value: 1 })),
          on_match: 'ALLOW',
        },
        {
          action: 'y',
          conditions: [
            { field: 'a', operator: 'in', value: 'abc' },
            { field: 'a', operator: 'not_in', value: [] },
          ],
          on_violation: 'BLOCK',
        },
      ],
    });
    expect(doc.name).toBe('policy');
    expect(doc.rules[0].conditions!.map((c) => c.operator)).toEqual([
      '==',
      '!=',
      '<',
      '>',
      '<=',
      '>=',
      '==',
      '!=',
      '<',
      '>',
      '<=',
      '>=',
    ]);
    expect(loadPolicy({ name: 'none', rules: [] }).rules).toEqual([]);
  });

  it('accepts null for the optional keys, and value: null', () => {
    const doc = loadPolicy({
      name: 'n',
      description: null,
      rules: [
        { action: 'x', conditions: null, on_match: 'ALLOW', on_violation: null, reason: null },
      ],
    });
    expect(doc).toEqual({ name: 'n', rules: [{ action: 'x', on_match: 'ALLOW' }] });
    const withNull = loadPolicy({
      rules: [{ ...rule, conditions: [{ field: 'a', operator: '==', value: null }] }],
    });
    expect(withNull.rules[0].conditions![0].value).toBeNull();
  });

  it('drops keys it does not use and the reference server metadata', () => {
    const doc = loadPolicy({ id: 'u', created_at: 't', rules: [{ ...rule, extra: 1 }] });
    expect(doc).toEqual({ name: 'policy', rules: [{ action: 'x', on_match: 'ALLOW' }] });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
