import {
  compareCodePoints,
  jsonEqual,
  orderValues,
} from '../../../../lib/engine/policy/policy.comparison';
import { formatPythonValue } from '../../../../lib/engine/policy/policy.value-format';

describe('compareCodePoints', () => {
  it.each<[string, string, -1 | 0 | 1]>([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['', '', 0],
    ['', 'a', -1],
    ['ab', 'a', 1],
    ['Z', 'a', -1],
    ['é', 'z', 1], // U+00E9 > U+007A
    // U+1F600 (surrogates D83D DE00) is above U+FF5E by code point, below it by UTF-16 unit
    ['😀', '～', 1],
    ['～', '😀', -1],
    ['a😀', 'a～', 1],
    ['😀', '😁', -1], // same high surrogate, differ in the low half
    ['😀x', '😀', 1],
    ['\uD800', '\uE000', -1], // a lone surrogate is its own code point, below U+E000
    ['\uD83D\uDE00', '\uD83Dx', 1], // a pair against a lone high surrogate followed by 'x'
  ])('%j vs %j → %i', (a, b, sign) => {
    expect(Math.sign(compareCodePoints(a, b))).toBe(sign);
    expect(Math.sign(compareCodePoints(b, a))).toBe(-sign || 0);
  });

  it('orders like sorting by code point arrays', () => {
    const words = ['～', '😀', 'a', 'B', 'é', '', 'ab', '\uFFFF', '𝔸', 'ａ'];
    const byCodePoints = [...words].sort((x, y) => {
      const a = Array.from(x, (c) => c.codePointAt(0) as number);
      const b = Array.from(y, (c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
      return a.length - b.length;
    });
    expect([...words].sort(compareCodePoints)).toEqual(byCodePoints);
  });
});

describe('orderValues', () => {
  it.each<[unknown, unknown]>([
    [1, '1'],
    ['1', 1],
    [true, 1],
    [null, 0],
    [[1], [1]],
    [{}, {}],
    [undefined, 1],
  ])('%j with %j is unordered (NaN)', (a, b) => {
    expect(orderValues(a, b)).toBeNaN();
  });
});

describe('jsonEqual', () => {
  it.each<[unknown, unknown, boolean]>([
    [1, 1.0, true],
    [0, -0, true],
    [true, 1, false],
    [null, undefined, true],
    ['a', 'a', true],
    [[1, [2, { a: 3 }]], [1, [2, { a: 3 }]], true],
    [[1, [2, { a: 3 }]], [1, [2, { a: 4 }]], false],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 1, b: null }, false],
    [[], {}, false],
    [NaN, NaN, false],
  ])('%j == %j → %s', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});

describe('formatPythonValue (Python str())', () => {
  it.each<[unknown, string]>([
    ['text', 'text'],
    ['', ''],
    [null, 'None'],
    [undefined, 'None'],
    [true, 'True'],
    [false, 'False'],
    [0, '0'],
    [-0, '0'],
    [500, '500'],
    [-12, '-12'],
    [9007199254740991, '9007199254740991'],
    [1e16, '1e+16'],
    [1e21, '1e+21'],
    [123.5, '123.5'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [-2.5e-10, '-2.5e-10'],
    [1.2345e20, '1.2345e+20'],
    [0.1 + 0.2, '0.30000000000000004'],
    [Infinity, 'inf'],
    [NaN, 'nan'],
    [[], '[]'],
    [['GBP', 'USD'], "['GBP', 'USD']"],
    [[1, 'a', null, true, 2.5], "[1, 'a', None, True, 2.5]"],
    [["it's"], `["it's"]`],
    [[`it's "x"`], `['it\\'s "x"']`],
    [['a\\b', 'line\nnext', '\u0001'], "['a\\\\b', 'line\\nnext', '\\x01']"],
    [{}, '{}'],
    [{ b: 1, a: ['x'] }, "{'b': 1, 'a': ['x']}"],
    [{ nested: { k: null } }, "{'nested': {'k': None}}"],
    [['é', '😀'], "['é', '😀']"],
  ])('%j → %s', (value, expected) => {
    expect(formatPythonValue(value)).toBe(expected);
  });
});
