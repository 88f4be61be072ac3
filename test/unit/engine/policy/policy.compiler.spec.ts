import * as path from 'node:path';
import {
  compilePolicy,
  evaluatePolicy,
  explainPolicy,
} from '../../../../lib/engine/policy/policy.compiler';
import type { PolicyDocument, PolicyRule } from '../../../../lib/engine/policy/policy.types';

const FIXTURES = path.join(__dirname, '../../../fixtures/policies');

function policy(...rules: PolicyRule[]): PolicyDocument {
  return { name: 'test', rules };
}

const catchAllBlock: PolicyRule = { action: '*', on_match: 'BLOCK', reason: 'catch-all' };

describe('evaluatePolicy: docs/policy.md evaluation steps', () => {
  it('step 1: skips rules whose glob does not match the whole action', () => {
    const p = compilePolicy(
      policy({ action: 'payments', on_match: 'BLOCK' }, { action: 'pay*', on_match: 'ESCALATE' }),
    );
    expect(p.evaluate('payments.initiate', {})).toEqual({
      decision: 'ESCALATE',
      reason: 'Rule matched: pay* | conditions satisfied',
      ruleIndex: 1,
    });
  });

  it('step 3: a rule without conditions yields on_match', () => {
    const p = compilePolicy(
      policy({ action: 'email.send', on_match: 'ALLOW', reason: 'mail is fine' }, catchAllBlock),
    );
    expect(p.evaluate('email.send', null)).toEqual({
      decision: 'ALLOW',
      reason: 'mail is fine',
      ruleIndex: 0,
    });
  });

  it('step 3: all conditions pass → on_match; a rule with only on_violation passes on to the next rule', () => {
    const p = compilePolicy(
      policy(
        {
          action: 'pay',
          conditions: [{ field: 'amount', operator: '<', value: 10 }],
          on_violation: 'ESCALATE',
        },
        {
          action: 'pay',
          conditions: [{ field: 'amount', operator: '<', value: 10 }],
          on_match: 'ALLOW',
        },
      ),
    );
    expect(p.evaluate('pay', { amount: 5 })).toEqual({
      decision: 'ALLOW',
      reason: 'Rule matched: pay | conditions satisfied',
      ruleIndex: 1,
    });
  });

  it('step 3: a failing condition → on_violation with the first failing condition in the reason', () => {
    const p = compilePolicy(
      policy({
        action: 'payments.initiate',
        conditions: [
          { field: 'currency', operator: 'in', value: ['GBP', 'USD', 'EUR'] },
          { field: 'amount', operator: '<=', value: 500 },
        ],
        on_violation: 'ESCALATE',
      }),
    );
    expect(p.evaluate('payments.initiate', { currency: 'JPY', amount: 900 })).toEqual({
      decision: 'ESCALATE',
      reason: "Condition failed: currency in ['GBP', 'USD', 'EUR'] failed (got JPY)",
      ruleIndex: 0,
    });
    expect(p.evaluate('payments.initiate', { currency: 'GBP', amount: 900 })).toEqual({
      decision: 'ESCALATE',
      reason: 'Condition failed: amount <= 500 failed (got 900)',
      ruleIndex: 0,
    });
    // everything passes and there is no on_match: the default decides
    expect(p.evaluate('payments.initiate', { currency: 'GBP', amount: 50 })).toEqual({
      decision: 'ALLOW',
      reason: 'No rule matched; default ALLOW',
      ruleIndex: -1,
    });
  });

  it('step 4: nothing decided → ALLOW with the fixed reason and ruleIndex -1', () => {
    expect(compilePolicy(policy()).evaluate('anything', {})).toEqual({
      decision: 'ALLOW',
      reason: 'No rule matched; default ALLOW',
      ruleIndex: -1,
    });
  });

  it('the first rule that yields wins, in document order, literal and glob rules interleaved', () => {
    const p = compilePolicy(
      policy(
        {
          action: 'a.*',
          conditions: [{ field: 'x', operator: '==', value: 1 }],
          on_match: 'ESCALATE',
        },
        {
          action: 'a.b',
          conditions: [{ field: 'x', operator: '==', value: 2 }],
          on_match: 'BLOCK',
        },
        {
          action: 'a.?',
          conditions: [{ field: 'x', operator: '==', value: 3 }],
          on_match: 'ESCALATE',
        },
        { action: 'a.b', on_match: 'ALLOW' },
        catchAllBlock,
      ),
    );
    expect(p.evaluate('a.b', { x: 1 }).ruleIndex).toBe(0);
    expect(p.evaluate('a.b', { x: 2 }).ruleIndex).toBe(1);
    expect(p.evaluate('a.b', { x: 3 }).ruleIndex).toBe(2);
    expect(p.evaluate('a.b', { x: 4 }).ruleIndex).toBe(3);
    expect(p.evaluate('a.c', { x: 4 }).ruleIndex).toBe(4);
    expect(p.evaluate('a.cc', { x: 3 }).ruleIndex).toBe(4);
    // the same action again (from the candidate cache) gives the same answers
    expect(p.evaluate('a.b', { x: 2 }).ruleIndex).toBe(1);
    expect(p.evaluate('a.b', { x: 3 }).ruleIndex).toBe(2);
  });

  it('uses violation_reason for on_violation, reason otherwise', () => {
    const rule: PolicyRule = {
      action: 'x',
      conditions: [{ field: 'ok', operator: '==', value: true }],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
      reason: 'all good',
      violation_reason: 'not ok',
    };
    const p = compilePolicy(policy(rule));
    expect(p.evaluate('x', { ok: true }).reason).toBe('all good');
    expect(p.evaluate('x', { ok: false }).reason).toBe('not ok');
    const withoutViolationReason = compilePolicy(policy({ ...rule, violation_reason: undefined }));
    expect(withoutViolationReason.evaluate('x', { ok: false }).reason).toBe('all good');
  });

  it('reads null/undefined parameters as every field null', () => {
    const p = compilePolicy(
      policy({
        action: 'x',
        conditions: [{ field: 'a', operator: '==', value: null }],
        on_match: 'BLOCK',
      }),
    );
    expect(p.evaluate('x', null).decision).toBe('BLOCK');
    expect(p.evaluate('x', undefined).decision).toBe('BLOCK');
    expect(p.evaluate('x', { a: undefined }).decision).toBe('BLOCK');
    expect(p.evaluate('x', { a: 0 }).decision).toBe('ALLOW');
  });

  it('reads only own fields: an inherited toString is a missing field', () => {
    const p = compilePolicy(
      policy({
        action: 'x',
        conditions: [{ field: 'toString', operator: '==', value: null }],
        on_match: 'BLOCK',
      }),
    );
    expect(p.evaluate('x', {}).decision).toBe('BLOCK');
  });
});

describe('defects of the reference engine that we do not copy', () => {
  it('an on_match rule whose conditions fail does not match (reference: returns on_match)', () => {
    const p = compilePolicy(
      policy(
        {
          action: 'payments.initiate',
          conditions: [{ field: 'amount', operator: '<', value: 100 }],
          on_match: 'ALLOW',
        },
        catchAllBlock,
      ),
    );
    expect(p.evaluate('payments.initiate', { amount: 500 })).toEqual({
      decision: 'BLOCK',
      reason: 'catch-all',
      ruleIndex: 1,
    });
  });

  it('a rule with both on_match and on_violation honours both (reference: on_violation ignored)', () => {
    const p = compilePolicy(
      policy(
        {
          action: 'payments.initiate',
          conditions: [{ field: 'currency', operator: 'in', value: ['GBP'] }],
          on_match: 'ALLOW',
          on_violation: 'ESCALATE',
        },
        catchAllBlock,
      ),
    );
    expect(p.evaluate('payments.initiate', { currency: 'GBP' }).decision).toBe('ALLOW');
    expect(p.evaluate('payments.initiate', { currency: 'JPY' })).toEqual({
      decision: 'ESCALATE',
      reason: "Condition failed: currency in ['GBP'] failed (got JPY)",
      ruleIndex: 0,
    });
  });

  it('ordering on a missing field or mismatched types fails the condition (reference: exception, HTTP 500)', () => {
    const p = compilePolicy(
      policy({
        action: 'pay',
        conditions: [{ field: 'amount', operator: '<=', value: 500 }],
        on_match: 'ALLOW',
        on_violation: 'ESCALATE',
      }),
    );
    expect(p.evaluate('pay', {})).toEqual({
      decision: 'ESCALATE',
      reason: 'Condition failed: amount <= 500 failed (got None)',
      ruleIndex: 0,
    });
    expect(p.evaluate('pay', { amount: '100' }).reason).toBe(
      'Condition failed: amount <= 500 failed (got 100)',
    );
    expect(p.evaluate('pay', { amount: [1] }).reason).toBe(
      'Condition failed: amount <= 500 failed (got [1])',
    );
  });

  it('in / not_in with a string value and a non-string field fails the condition (reference: exception)', () => {
    const p = compilePolicy(
      policy(
        {
          action: 'a',
          conditions: [{ field: 'code', operator: 'in', value: 'GBP,USD' }],
          on_violation: 'BLOCK',
        },
        {
          action: 'b',
          conditions: [{ field: 'code', operator: 'not_in', value: 'GBP,USD' }],
          on_violation: 'BLOCK',
        },
      ),
    );
    expect(p.evaluate('a', { code: 5 })).toEqual({
      decision: 'BLOCK',
      reason: 'Condition failed: code in GBP,USD failed (got 5)',
      ruleIndex: 0,
    });
    expect(p.evaluate('b', { code: 5 }).decision).toBe('BLOCK');
    expect(p.evaluate('b', {}).decision).toBe('BLOCK');
  });
});

type OpRow = [operator: string, value: unknown, actual: unknown, passes: boolean];

describe('operators and comparison rules', () => {
  const rows: Record<string, OpRow[]> = {
    '== and != (deep JSON equality)': [
      ['==', 5, 5, true],
      ['==', 5, 5.0, true],
      ['==', 1, true, false], // a boolean is not a number (Python would say True == 1)
      ['==', 0, false, false],
      ['==', '5', 5, false],
      ['==', null, undefined, true],
      ['==', null, 0, false],
      ['==', [1, 2], [1, 2], true],
      ['==', [1, 2], [2, 1], false],
      ['==', { a: 1, b: [2] }, { b: [2], a: 1 }, true],
      ['==', { a: 1 }, { a: 1, b: 2 }, false],
      ['==', { a: null }, {}, false],
      ['==', [], {}, false],
      ['!=', 5, 6, true],
      ['!=', 5, 5, false],
      ['!=', 'x', undefined, true],
      ['!=', [1], [1], false],
    ],
    'ordering: numbers with numbers': [
      ['<', 10, 9, true],
      ['<', 10, 10, false],
      ['<=', 10, 10, true],
      ['>', 10, 10.5, true],
      ['>=', 10, 10, true],
      ['>=', 10, -1, false],
      ['<', 0, -0.5, true],
    ],
    'ordering: strings by code point': [
      ['<', 'b', 'a', true],
      ['<', 'b', 'B', true], // 'B' (0x42) < 'b' (0x62): no locale collation
      ['>', 'a', 'ab', true],
      ['<', 'a', '', true],
      // U+FF5E (fullwidth tilde) < U+1F600 (emoji) by code point, although its
      // UTF-16 unit 0xFF5E is above the emoji's first unit 0xD83D
      ['<', '😀', '～', true],
      ['>', '～', '😀', true],
      ['>=', 'é', 'é', true],
    ],
    'ordering compares nothing else: the condition fails': [
      ['<', 10, '5', false],
      ['>=', '10', 5, false],
      ['>', 0, true, false],
      ['<', 1, false, false],
      ['<=', 5, null, false],
      ['<=', 5, undefined, false],
      ['>', 0, [1], false],
      ['<', [2], [1], false],
      ['>=', null, null, false],
      ['>', 1, NaN, false],
    ],
    'in / not_in with a list: deep membership': [
      ['in', ['GBP', 'USD'], 'GBP', true],
      ['in', ['GBP', 'USD'], 'JPY', false],
      ['in', ['GBP'], 'gbp', false],
      ['in', [1, 2], 2.0, true],
      ['in', [1, 2], true, false],
      ['in', [null], undefined, true],
      ['in', [[1, 2]], [1, 2], true],
      ['in', [{ a: 1 }], { a: 1 }, true],
      ['in', [], 'x', false],
      ['not_in', ['GBP', 'USD'], 'JPY', true],
      ['not_in', ['GBP', 'USD'], 'USD', false],
      ['not_in', [], 'x', true],
      ['not_in', [1], undefined, true],
    ],
    'in / not_in with a string: substring of a string field only': [
      ['in', 'GBP,USD', 'GBP', true],
      ['in', 'GBP,USD', 'P,U', true],
      ['in', 'GBP,USD', '', true],
      ['in', 'GBP,USD', 'JPY', false],
      ['in', 'GBP,USD', 'gbp', false],
      ['in', '123', 1, false],
      ['in', 'None', null, false],
      ['not_in', 'GBP,USD', 'JPY', true],
      ['not_in', 'GBP,USD', 'USD', false],
      ['not_in', 'GBP,USD', 5, false],
      ['not_in', 'GBP,USD', undefined, false],
    ],
  };

  for (const [group, table] of Object.entries(rows)) {
    describe(group, () => {
      it.each(table)('%s %j with actual %j → passes=%s', (operator, value, actual, passes) => {
        const p = compilePolicy(
          policy({
            action: 'x',
            conditions: [{ field: 'f', operator: operator as any, value }],
            on_match: 'ALLOW',
            on_violation: 'BLOCK',
          }),
        );
        expect(p.evaluate('x', { f: actual }).decision).toBe(passes ? 'ALLOW' : 'BLOCK');
      });
    });
  }

  it.each([
    ['eq', 5, 5, true],
    ['ne', 5, 5, false],
    ['lt', 5, 4, true],
    ['gt', 5, 4, false],
    ['le', 5, 5, true],
    ['ge', 5, 4, false],
  ])(
    'alias %s behaves as its canonical operator and prints canonically',
    (alias, value, actual, passes) => {
      const p = compilePolicy({
        name: 'aliases',
        rules: [
          {
            action: 'x',
            conditions: [{ field: 'f', operator: alias, value }],
            on_match: 'ALLOW',
            on_violation: 'BLOCK',
          },
        ],
      });
      const decision = p.evaluate('x', { f: actual });
      expect(decision.decision).toBe(passes ? 'ALLOW' : 'BLOCK');
      const canonical = { eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' }[alias];
      if (!passes)
        expect(decision.reason).toBe(
          `Condition failed: f ${canonical} ${value} failed (got ${actual})`,
        );
    },
  );
});

describe('reason text prints values as Python str() does', () => {
  it.each([
    ['a string value and actual print bare', 'JPY', 'GBP', 'f == GBP failed (got JPY)'],
    ['null prints None', null, 'x', 'f == x failed (got None)'],
    ['booleans print True/False', true, false, 'f == False failed (got True)'],
    ['integers as written', 12, 500, 'f == 500 failed (got 12)'],
    ['floats as Python repr', 0.5, 1e-5, 'f == 1e-05 failed (got 0.5)'],
    ['large floats in exponent form', 1e21, 2.5, 'f == 2.5 failed (got 1e+21)'],
    [
      'lists with quoted strings',
      ['a', "it's"],
      [1, null],
      `f == [1, None] failed (got ['a', "it's"])`,
    ],
    [
      'dicts with quoted keys',
      { k: 'v', n: [true] },
      {},
      "f == {} failed (got {'k': 'v', 'n': [True]})",
    ],
  ])('%s', (_label, actual, value, expected) => {
    const p = compilePolicy(
      policy({
        action: 'x',
        conditions: [{ field: 'f', operator: '==', value }],
        on_violation: 'BLOCK',
      }),
    );
    expect(p.evaluate('x', { f: actual }).reason).toBe(`Condition failed: ${expected}`);
  });
});

describe('loading through compilePolicy', () => {
  it('compiles the YAML fixture in the reference spelling and decides as docs/policy.md says', () => {
    const p = compilePolicy(path.join(FIXTURES, 'payments.yml'));
    expect(p.source).toBe(path.join(FIXTURES, 'payments.yml'));
    expect(p.document.name).toBe('payments');
    expect(p.evaluate('data.delete', {})).toEqual({
      decision: 'BLOCK',
      reason: 'Data mutations require direct human action',
      ruleIndex: 0,
    });
    expect(p.evaluate('payments.initiate', { currency: 'JPY', amount: 5 })).toEqual({
      decision: 'ESCALATE',
      reason: 'Currency not on the approved list.',
      ruleIndex: 1,
    });
    expect(p.evaluate('payments.initiate', { currency: 'GBP', amount: 501 })).toEqual({
      decision: 'ESCALATE',
      reason: 'Condition failed: amount <= 500 failed (got 501)',
      ruleIndex: 2,
    });
    expect(p.evaluate('payments.initiate', { currency: 'GBP', amount: 500 })).toEqual({
      decision: 'ALLOW',
      reason: 'Payment within approved parameters',
      ruleIndex: 3,
    });
    expect(p.evaluate('email.send', {})).toEqual({
      decision: 'ALLOW',
      reason: 'Rule matched: email.send | conditions satisfied',
      ruleIndex: 4,
    });
    expect(p.evaluate('files.read', {}).ruleIndex).toBe(5);
  });

  it('compiles the JSON fixture', () => {
    const p = compilePolicy(path.join(FIXTURES, 'payments.json'));
    expect(p.evaluate('payments.refund', { amount: 10 }).decision).toBe('ALLOW');
    expect(p.evaluate('payments.refund', { amount: 1000 }).decision).toBe('ESCALATE');
    expect(p.evaluate('other', {}).decision).toBe('BLOCK');
  });

  it('is not affected by later changes to the object it was compiled from', () => {
    const raw = {
      name: 'm',
      rules: [
        {
          action: 'x',
          conditions: [{ field: 'f', operator: 'in', value: ['a'] }],
          on_violation: 'BLOCK',
        },
      ],
    };
    const p = compilePolicy(raw);
    raw.rules[0].conditions[0].value.push('b');
    raw.rules[0].action = 'y';
    expect(p.evaluate('x', { f: 'b' }).decision).toBe('BLOCK');
    expect(Object.isFrozen(p.document.rules[0])).toBe(true);
  });

  it('evaluatePolicy and explainPolicy accept a plain object and a compiled policy', () => {
    const raw = policy({ action: 'x', on_match: 'BLOCK' });
    expect(evaluatePolicy(raw, 'x', {}).decision).toBe('BLOCK');
    expect(evaluatePolicy(compilePolicy(raw), 'y', {}).decision).toBe('ALLOW');
    expect(explainPolicy(raw, 'x', {}).decision).toBe('BLOCK');
    expect(evaluatePolicy(path.join(FIXTURES, 'payments.json'), 'zzz', {}).decision).toBe('BLOCK');
    const compiled = compilePolicy(raw);
    expect(compilePolicy(compiled)).toBe(compiled);
    expect(compilePolicy(compiled, 'elsewhere').source).toBe('elsewhere');
  });

  it("returns frozen decisions, so a caller cannot change the next caller's answer", () => {
    const p = compilePolicy(policy({ action: 'x', on_match: 'BLOCK' }));
    const first = p.evaluate('x', {});
    expect(() => {
      (first as { decision: string }).decision = 'ALLOW';
    }).toThrow(TypeError);
    expect(p.evaluate('x', {}).decision).toBe('BLOCK');
    expect(p.evaluate('nothing', {}).reason).toBe('No rule matched; default ALLOW');
  });

  it('keeps deciding correctly past the candidate cache limit', () => {
    const p = compilePolicy(
      policy({ action: 'a*', on_match: 'BLOCK' }, { action: 'b', on_match: 'ESCALATE' }),
    );
    for (let i = 0; i < 3000; i++) {
      expect(p.evaluate(`a${i}`, null).decision).toBe('BLOCK');
      expect(p.evaluate(`c${i}`, null).decision).toBe('ALLOW');
    }
    expect(p.evaluate('b', null).decision).toBe('ESCALATE');
  });
});

describe('explain', () => {
  const doc = policy(
    { action: 'data.*', on_match: 'BLOCK' },
    {
      action: 'payments.initiate',
      conditions: [
        { field: 'currency', operator: 'in', value: ['GBP', 'USD'] },
        { field: 'amount', operator: '<=', value: 500 },
      ],
      on_match: 'ALLOW',
    },
    {
      action: 'payments.*',
      conditions: [{ field: 'amount', operator: '<', value: 10000 }],
      on_violation: 'ESCALATE',
    },
    catchAllBlock,
  );

  it('lists every rule in order with what it did, and the decision', () => {
    const e = compilePolicy(doc).explain('payments.initiate', { currency: 'GBP', amount: 20000 });
    expect(e).toEqual({
      action: 'payments.initiate',
      decision: 'ESCALATE',
      reason: 'Condition failed: amount < 10000 failed (got 20000)',
      ruleIndex: 2,
      rules: [
        { index: 0, action: 'data.*', globMatched: false, evaluated: true, outcome: null },
        {
          index: 1,
          action: 'payments.initiate',
          globMatched: true,
          evaluated: true,
          failedCondition: { index: 1, field: 'amount', operator: '<=', value: 500, actual: 20000 },
          outcome: null,
        },
        {
          index: 2,
          action: 'payments.*',
          globMatched: true,
          evaluated: true,
          failedCondition: {
            index: 0,
            field: 'amount',
            operator: '<',
            value: 10000,
            actual: 20000,
          },
          outcome: 'ESCALATE',
        },
        { index: 3, action: '*', globMatched: true, evaluated: false, outcome: null },
      ],
    });
  });

  it('agrees with evaluate on many inputs', () => {
    const p = compilePolicy(doc);
    const actions = [
      'data.x',
      'payments.initiate',
      'payments.refund',
      'email.send',
      'payments',
      '',
    ];
    const currencies = ['GBP', 'JPY', undefined, 5];
    const amounts = [0, 500, 501, 9999, 10000, '7', null, undefined];
    let checked = 0;
    for (const action of actions) {
      for (const currency of currencies) {
        for (const amount of amounts) {
          const params = { currency, amount };
          const decision = p.evaluate(action, params);
          const explanation = p.explain(action, params);
          expect({
            decision: explanation.decision,
            reason: explanation.reason,
            ruleIndex: explanation.ruleIndex,
          }).toEqual(decision);
          const deciding = explanation.rules.filter((rule) => rule.outcome !== null);
          expect(deciding.map((rule) => rule.index)).toEqual(
            decision.ruleIndex < 0 ? [] : [decision.ruleIndex],
          );
          checked++;
        }
      }
    }
    expect(checked).toBe(actions.length * currencies.length * amounts.length);
  });

  it('agrees with evaluate on random policies', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const globs = ['*', 'a', 'a.*', 'a.b', '?.b', '[ab].*', 'b.c', '*.c'];
    const outcomes = ['ALLOW', 'BLOCK', 'ESCALATE', undefined] as const;
    const operators = ['==', '!=', '<', '>', '<=', '>=', 'in', 'not_in'] as const;
    const values: unknown[] = [1, 5, 'x', null, true, [1, 'x'], 'xyz'];
    for (let round = 0; round < 100; round++) {
      const rules: PolicyRule[] = [];
      const count = 1 + random(8);
      for (let r = 0; r < count; r++) {
        let onMatch = outcomes[random(4)];
        const onViolation = outcomes[random(4)];
        if (onMatch === undefined && onViolation === undefined) onMatch = 'BLOCK';
        const conditions = Array.from({ length: random(3) }, () => {
          const operator = operators[random(operators.length)];
          let value = values[random(values.length)];
          if (
            (operator === 'in' || operator === 'not_in') &&
            !Array.isArray(value) &&
            typeof value !== 'string'
          )
            value = [value];
          return { field: ['f', 'g'][random(2)], operator, value };
        });
        rules.push({
          action: globs[random(globs.length)],
          conditions,
          on_match: onMatch,
          on_violation: onViolation,
        });
      }
      const p = compilePolicy(policy(...rules));
      for (const action of ['a', 'a.b', 'b.b', 'b.c', 'c', 'a.c']) {
        const params = { f: values[random(values.length)], g: values[random(values.length)] };
        const e = p.explain(action, params);
        expect({ decision: e.decision, reason: e.reason, ruleIndex: e.ruleIndex }).toEqual(
          p.evaluate(action, params),
        );
      }
    }
  });
});

describe('many rules', () => {
  it('keeps precedence with 1000 literal and glob rules', () => {
    const rules: PolicyRule[] = [];
    for (let i = 0; i < 1000; i++) {
      rules.push(
        i % 10 === 9
          ? { action: `svc${i}.*`, on_match: 'ESCALATE' }
          : {
              action: `svc${i}.call`,
              conditions: [{ field: 'n', operator: '==', value: i }],
              on_match: 'BLOCK',
            },
      );
    }
    rules.push({ action: 'svc*', on_match: 'ALLOW', reason: 'tail' });
    const p = compilePolicy(policy(...rules));
    expect(p.evaluate('svc5.call', { n: 5 }).ruleIndex).toBe(5);
    expect(p.evaluate('svc5.call', { n: 6 }).ruleIndex).toBe(1000);
    expect(p.evaluate('svc19.call', { n: 19 }).ruleIndex).toBe(19);
    expect(p.evaluate('svc19.other', {}).ruleIndex).toBe(19);
    expect(p.evaluate('svc999.call', {}).ruleIndex).toBe(999);
    expect(p.evaluate('nothing', {}).ruleIndex).toBe(-1);
  });
});
