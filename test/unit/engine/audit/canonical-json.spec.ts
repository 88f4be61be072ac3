import { createHash } from 'node:crypto';
import { CanonicalJsonError } from '../../../../lib/engine/audit/audit.errors';
import {
  MAX_CANONICAL_DEPTH,
  canonicalJson,
  payloadHash,
} from '../../../../lib/protocol/canonical-json';
import { MAX_PARAMETER_DEPTH } from '../../../../lib/protocol/call-parameters';
import { InvalidParametersError } from '../../../../lib/protocol/provenance.errors';

// Every expected string below was produced once, while writing this test, by
// Python 3.11: json.dumps(json.loads(<the JSON JavaScript writes for the value>),
// sort_keys=True, separators=(",", ":"), ensure_ascii=True), and pasted here.
// The tests never run Python.

describe('canonicalJson', () => {
  it('orders keys and leaves out spaces', () => {
    expect(canonicalJson({ b: 1, a: { y: [1, 'x'], x: null }, A: true, '': false })).toBe(
      '{"":false,"A":true,"a":{"x":null,"y":[1,"x"]},"b":1}',
    );
  });

  it('orders keys by code point, not UTF-16 unit (astral after U+FFFF)', () => {
    const value = { '\u{1F600}': 1, '\uffff': 2, '\ue000': 3, z: 4, é: 5 };
    expect(canonicalJson(value)).toBe(
      '{"z":4,"\\u00e9":5,"\\ue000":3,"\\uffff":2,"\\ud83d\\ude00":1}',
    );
  });

  it('orders a lone surrogate key by its own code point', () => {
    const value = { '\ud800': 1, '\u{10000}': 2, '\uffff': 3 };
    expect(canonicalJson(value)).toBe('{"\\ud800":1,"\\uffff":3,"\\ud800\\udc00":2}');
    // A pair (U+10000) after a lone high surrogate followed by U+FFFF.
    const pairs = { '\ud800\udc00': 1, '\ud800\uffff': 2, '\ud800': 3 };
    expect(canonicalJson(pairs)).toBe('{"\\ud800":3,"\\ud800\\uffff":2,"\\ud800\\udc00":1}');
  });

  it('escapes like ensure_ascii: short escapes, lowercase \\u, surrogate pairs, DEL', () => {
    const text = 'café \u2028 \u{1F600} "q" \\ \n\r\t\b\f \u0000 \u001f \u007f ~';
    expect(canonicalJson(text)).toBe(
      '"caf\\u00e9 \\u2028 \\ud83d\\ude00 \\"q\\" \\\\ \\n\\r\\t\\b\\f \\u0000 \\u001f \\u007f ~"',
    );
  });

  it('writes lone surrogates unit by unit', () => {
    expect(canonicalJson('\ud800x\udc00')).toBe('"\\ud800x\\udc00"');
  });

  it('prints integers as written and other numbers as Python float repr', () => {
    const numbers = [
      1,
      -0,
      1.5,
      0.0001,
      0.00001,
      1e16,
      1e21,
      123.456,
      5e-324,
      1.7976931348623157e308,
      2 ** 53 + 2,
      -1.5e-7,
      1.5e300,
      1.2345678901234568e20,
      1e-7,
      0.1,
      100.5,
      1234567890123456.8,
      -0.5,
    ];
    expect(canonicalJson(numbers)).toBe(
      '[1,0,1.5,0.0001,1e-05,10000000000000000,1e+21,123.456,5e-324,1.7976931348623157e+308,' +
        '9007199254740994,-1.5e-07,1.5e+300,123456789012345680000,1e-07,0.1,100.5,' +
        '1234567890123456.8,-0.5]',
    );
  });

  it('handles more float shapes at the edges of positional notation', () => {
    expect(
      canonicalJson([1500000000000000.5, 2.5e-5, 1.23e-18, 0.000123, 1e300, -1e-300, 12345678.9]),
    ).toBe('[1500000000000000.5,2.5e-05,1.23e-18,0.000123,1e+300,-1e-300,12345678.9]');
  });

  it('follows JSON.stringify for toJSON, Dates, boxed values and undefined', () => {
    const value = {
      when: new Date('2024-01-02T03:04:05.678Z'),
      n: [undefined, null, new Number(3)],
      gone: undefined,
      deep: { toJSON: () => ({ k: 'v' }) },
    };
    expect(canonicalJson(value)).toBe(
      '{"deep":{"k":"v"},"n":[null,null,3],"when":"2024-01-02T03:04:05.678Z"}',
    );
  });

  it('computes payloadHash as sha256 of the canonical text', () => {
    // sha256 of '{"amount":100,"currency":"EUR"}', computed with Python's hashlib.
    expect(payloadHash({ currency: 'EUR', amount: 100 })).toBe(
      'f50d36c1739463e571da8e929fdeb3bc35c5bf86051c653d6a61deedcb10944e',
    );
    expect(payloadHash(null)).toBe(createHash('sha256').update('null').digest('hex'));
  });

  describe('refuses, naming the path', () => {
    const refused = (value: unknown, path: string, words: RegExp) => {
      let caught: unknown;
      try {
        canonicalJson(value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(CanonicalJsonError);
      expect((caught as CanonicalJsonError).path).toBe(path);
      expect((caught as Error).message).toMatch(words);
      expect((caught as Error).message.startsWith(path)).toBe(true);
    };

    it('NaN and Infinity', () => {
      refused({ a: [1, NaN] }, '$.a[1]', /NaN/);
      refused({ 'x y': Infinity }, '$["x y"]', /Infinity/);
      refused(-Infinity, '$', /Infinity/);
    });

    it('BigInt, functions, symbols, Map, Set', () => {
      refused({ n: 10n }, '$.n', /BigInt/);
      refused({ f: () => 1 }, '$.f', /function/);
      refused([Symbol('s')], '$[0]', /symbol/);
      refused({ m: new Map() }, '$.m', /Map/);
      refused({ s: new Set([1]) }, '$.s', /Set/);
      refused(undefined, '$', /undefined/);
    });

    it('cycles, but not shared references', () => {
      const shared = { v: 1 };
      expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
      const loop: Record<string, unknown> = { x: {} };
      (loop.x as Record<string, unknown>).back = loop;
      refused(loop, '$.x.back', /circular/);
    });

    it('nesting beyond the limit, and 10 000 levels without a stack overflow', () => {
      const nest = (levels: number) => {
        let value: unknown = 0;
        for (let i = 0; i < levels; i++) value = [value];
        return value;
      };
      expect(canonicalJson(nest(MAX_CANONICAL_DEPTH))).toHaveLength(2 * MAX_CANONICAL_DEPTH + 1);
      expect(() => canonicalJson(nest(MAX_CANONICAL_DEPTH + 1))).toThrow(CanonicalJsonError);
      expect(() => canonicalJson(nest(10_000))).toThrow(/nested more than 100 levels deep/);
    });
  });

  describe('one walker with the call parameters', () => {
    it('unwraps every boxed primitive', () => {
      expect(canonicalJson({ n: new Number(5), s: new String('x'), b: new Boolean(false) })).toBe(
        '{"b":false,"n":5,"s":"x"}',
      );
    });

    it('has one depth limit, MAX_PARAMETER_DEPTH (MAX_CANONICAL_DEPTH is its deprecated alias)', () => {
      expect(MAX_CANONICAL_DEPTH).toBe(MAX_PARAMETER_DEPTH);
      expect(MAX_PARAMETER_DEPTH).toBe(100);
    });

    it('refuses with InvalidParametersError; CanonicalJsonError is the same class', () => {
      let caught: unknown;
      try {
        canonicalJson({ a: [1, NaN] });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidParametersError);
      expect(CanonicalJsonError).toBe(InvalidParametersError);
      expect((caught as InvalidParametersError).path).toBe('$.a[1]');
      expect((caught as InvalidParametersError).action).toBe('');
      // The 0.1 constructor still works.
      const old = new CanonicalJsonError('$.x', '$.x is wrong');
      expect(old).toBeInstanceOf(InvalidParametersError);
      expect([old.path, old.message, old.action]).toEqual(['$.x', '$.x is wrong', '']);
    });
  });
});
