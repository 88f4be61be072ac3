import * as path from 'node:path';
import { PolicyValidationError } from '../../../../lib/engine/policy/policy.errors';
import { lintPolicy, type LintFinding } from '../../../../lib/engine/policy/policy.linter';
import type { PolicyRule } from '../../../../lib/engine/policy/policy.types';

const FIXTURES = path.join(__dirname, '../../../fixtures/policies');
const END: PolicyRule = { action: '*', on_match: 'BLOCK' };

function codes(findings: LintFinding[]): Array<[number | null, string, string]> {
  return findings.map((f) => [f.ruleIndex, f.code, f.severity]);
}

function lint(...rules: PolicyRule[]): Array<[number | null, string, string]> {
  return codes(lintPolicy({ name: 'p', rules }));
}

describe('lintPolicy', () => {
  it('finds nothing in a policy that ends with a catch-all and has no dead rules', () => {
    expect(lintPolicy(path.join(FIXTURES, 'payments.yml'))).toEqual([]);
  });

  it('warns about an empty rules list (everything is allowed)', () => {
    const findings = lintPolicy(path.join(FIXTURES, 'empty-rules.yml'));
    expect(codes(findings)).toEqual([[null, 'empty-rules', 'warning']]);
    expect(findings[0].message).toContain('every action is ALLOWed by default');
  });

  it('warns when no catch-all decides the actions no rule matches', () => {
    expect(lint({ action: 'a', on_match: 'BLOCK' })).toEqual([[null, 'no-catch-all', 'warning']]);
    // a conditional catch-all does not always decide
    expect(
      lint({
        action: '*',
        conditions: [{ field: 'x', operator: '==', value: 1 }],
        on_match: 'BLOCK',
      }),
    ).toEqual([[null, 'no-catch-all', 'warning']]);
    // one with both outcomes does
    expect(
      lint({
        action: '**',
        conditions: [{ field: 'x', operator: '==', value: 1 }],
        on_match: 'BLOCK',
        on_violation: 'ESCALATE',
      }),
    ).toEqual([]);
  });

  describe('shadowed rules', () => {
    it.each<[string, PolicyRule, PolicyRule, boolean]>([
      [
        'a literal under an earlier glob',
        { action: 'reports.*', on_match: 'ALLOW' },
        { action: 'reports.daily', on_match: 'BLOCK' },
        true,
      ],
      [
        'a literal outside an earlier glob',
        { action: 'reports.*', on_match: 'ALLOW' },
        { action: 'report', on_match: 'BLOCK' },
        false,
      ],
      [
        'a literal under a set glob',
        { action: 'r[a-c]', on_match: 'ALLOW' },
        { action: 'rb', on_match: 'BLOCK' },
        true,
      ],
      [
        'the same literal twice',
        { action: 'a.b', on_match: 'ALLOW' },
        { action: 'a.b', on_match: 'BLOCK' },
        true,
      ],
      [
        'the same glob twice',
        { action: 'a.?', on_match: 'ALLOW' },
        { action: 'a.?', on_match: 'BLOCK' },
        true,
      ],
      [
        'anything after a catch-all',
        { action: '*', on_match: 'ALLOW' },
        { action: 'x.*', on_match: 'BLOCK' },
        true,
      ],
      [
        'a narrower prefix glob',
        { action: 'pay*', on_match: 'ALLOW' },
        { action: 'payments.?', on_match: 'BLOCK' },
        true,
      ],
      [
        'a narrower suffix glob',
        { action: '*.delete', on_match: 'BLOCK' },
        { action: 'user*.delete', on_match: 'ALLOW' },
        true,
      ],
      [
        'a wider glob after a narrower one',
        { action: 'pay.*', on_match: 'ALLOW' },
        { action: 'pay*', on_match: 'BLOCK' },
        false,
      ],
      [
        'a rule after a conditional one',
        { action: '*', conditions: [{ field: 'a', operator: '==', value: 1 }], on_match: 'ALLOW' },
        { action: 'x', on_match: 'BLOCK' },
        false,
      ],
      [
        'a rule after a conditional one with both outcomes',
        {
          action: 'x*',
          conditions: [{ field: 'a', operator: '==', value: 1 }],
          on_match: 'ALLOW',
          on_violation: 'BLOCK',
        },
        { action: 'xy', on_match: 'BLOCK' },
        true,
      ],
    ])('%s → shadowed: %s', (_label, earlier, later, shadowed) => {
      const found = lint(earlier, later, END).filter(
        ([index, code]) => index === 1 && code === 'shadowed',
      );
      expect(found).toEqual(shadowed ? [[1, 'shadowed', 'warning']] : []);
    });

    it('names the shadowing rule in the message', () => {
      const findings = lintPolicy({
        rules: [{ action: 'a.*', on_match: 'ALLOW' }, { action: 'a.b', on_match: 'BLOCK' }, END],
      });
      expect(findings[0].message).toBe(
        "unreachable: rules[0] ('a.*') decides every action that 'a.b' matches before this rule is reached",
      );
    });
  });

  it('reports a rule with only on_violation and no conditions as an error (it never decides)', () => {
    expect(lint({ action: 'x', on_violation: 'BLOCK' }, END)).toEqual([
      [0, 'never-decides', 'error'],
    ]);
  });

  it('reports an ordering comparison with a value that is not a number or a string as an error', () => {
    const findings = lintPolicy({
      rules: [
        {
          action: 'x',
          conditions: [{ field: 'a', operator: 'gt', value: true }],
          on_violation: 'BLOCK',
        },
        END,
      ],
    });
    expect(codes(findings)).toEqual([[0, 'unorderable-value', 'error']]);
    expect(findings[0].message).toBe(
      "conditions[0]: '>' compares only numbers with numbers and strings with strings; the value True makes the condition fail for every input",
    );
  });

  it('warns when a field is compared with values of different types across conditions', () => {
    const findings = lintPolicy(path.join(FIXTURES, 'lint-findings.yml'));
    expect(codes(findings)).toEqual([
      [1, 'shadowed', 'warning'],
      [3, 'unknown-key', 'warning'],
      [3, 'mixed-types', 'warning'],
      [null, 'no-catch-all', 'warning'],
    ]);
    expect(findings[2].message).toContain(
      "field 'amount' is compared with values of different types (number, string)",
    );
    expect(findings[1].message).toMatch(/^unknown key 'reasn' is ignored \(known keys: action, /);
  });

  it('looks inside membership lists for mixed types, and lets null go with anything', () => {
    expect(
      lint(
        {
          action: 'x',
          conditions: [{ field: 'a', operator: 'in', value: [1, 'one'] }],
          on_match: 'BLOCK',
        },
        {
          action: 'y',
          conditions: [
            { field: 'b', operator: '==', value: null },
            { field: 'b', operator: '>', value: 3 },
          ],
          on_match: 'BLOCK',
        },
        END,
      ),
    ).toEqual([[0, 'mixed-types', 'warning']]);
  });

  it('places an unknown key inside a condition relative to its rule', () => {
    const findings = lintPolicy({
      rules: [
        END,
        {
          action: 'x',
          conditions: [{ field: 'a', operator: '==', value: 1, note: 'n' }],
          on_match: 'BLOCK',
        },
      ],
    });
    const unknown = findings.filter((f) => f.code === 'unknown-key');
    expect(unknown.map((f) => [f.ruleIndex, f.message.split(' (')[0]])).toEqual([
      [1, "conditions[0]: unknown key 'note' is ignored"],
    ]);
  });

  it('warns about empty membership lists', () => {
    expect(
      lint(
        { action: 'x', conditions: [{ field: 'a', operator: 'in', value: [] }], on_match: 'BLOCK' },
        END,
      ),
    ).toEqual([[0, 'empty-membership', 'warning']]);
  });

  it('throws PolicyValidationError for an invalid policy', () => {
    expect(() => lintPolicy({ rules: 'nope' })).toThrow(PolicyValidationError);
  });
});
