import { InvalidParametersError } from '../../../lib/protocol/provenance.errors';
import { MAX_PARAMETER_DEPTH, normalizeParameters } from '../../../lib/protocol/call-parameters';
import { canonicalJson, canonicalTextOf } from '../../../lib/protocol/canonical-json';

const MB = 1024 * 1024;
const norm = (value: unknown, max = MB) => normalizeParameters('t.act', value, max);

function refusal(value: unknown, max = MB): InvalidParametersError {
  try {
    norm(value, max);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParametersError);
    return error as InvalidParametersError;
  }
  throw new Error('expected a refusal');
}

describe('normalizeParameters', () => {
  it('passes plain JSON through and maps null/undefined to null', () => {
    expect(norm(undefined)).toBeNull();
    expect(norm(null)).toBeNull();
    expect(JSON.stringify(norm({ a: 1, b: 'x', c: [true, null], d: { e: 1.5 } }))).toBe(
      '{"a":1,"b":"x","c":[true,null],"d":{"e":1.5}}',
    );
  });

  it('refuses parameters that are not an object', () => {
    for (const bad of [1, 'x', true, [1, 2]]) {
      expect(refusal(bad).path).toBe('$');
    }
  });

  it('drops undefined properties and turns undefined array items into null, as JSON does', () => {
    expect(JSON.stringify(norm({ a: undefined, b: [undefined, 2] }))).toBe('{"b":[null,2]}');
  });

  it('writes Dates as ISO strings and refuses an invalid Date', () => {
    expect(norm({ at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)) })).toEqual({
      at: '2026-01-02T03:04:05.006Z',
    });
    expect(refusal({ at: new Date('nope') }).path).toBe('$.at');
  });

  it('uses toJSON of class instances', () => {
    class Money {
      constructor(private readonly cents: number) {}
      toJSON() {
        return { amount: this.cents / 100 };
      }
    }
    expect(JSON.stringify(norm({ m: new Money(250) }))).toBe('{"m":{"amount":2.5}}');
  });

  it('keeps __proto__ and constructor as ordinary keys without touching prototypes', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": 2}}');
    const out = norm(parsed) as Record<string, unknown>;
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":1},"constructor":{"prototype":2}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBeNull();
  });

  it.each([
    ['BigInt', { n: BigInt(1) }, '$.n'],
    ['function', { f: () => 1 }, '$.f'],
    ['symbol', { s: Symbol('x') }, '$.s'],
    ['NaN', { x: NaN }, '$.x'],
    ['Infinity', { x: [1, -Infinity] }, '$.x[1]'],
    ['Map', { m: new Map() }, '$.m'],
    ['Set', { s: new Set([1]) }, '$.s'],
    ['Buffer', { b: Buffer.from('hi') }, '$.b'],
    ['Uint8Array', { b: new Uint8Array(2) }, '$.b'],
    ['Promise', { p: Promise.resolve(1) }, '$.p'],
  ])('refuses a %s and names where it is', (_label, value, path) => {
    const error = refusal(value);
    expect(error.path).toBe(path);
    expect(error.message).toContain(path);
    expect(error.message).toContain('Nothing was sent');
  });

  it('refuses a cycle but accepts the same object twice side by side', () => {
    const shared = { k: 1 };
    expect(JSON.stringify(norm({ a: shared, b: shared }))).toBe('{"a":{"k":1},"b":{"k":1}}');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(refusal(cyclic).path).toBe('$.self.back');
  });

  it('refuses 10 000 levels of nesting cleanly, without a stack overflow', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) {
      const next = {};
      deep.n = next;
      deep = next;
    }
    const error = refusal(root);
    expect(error.message).toContain(`more than ${MAX_PARAMETER_DEPTH} levels`);
  });

  it('accepts nesting up to the limit', () => {
    let value: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < MAX_PARAMETER_DEPTH - 1; i++) value = { n: value };
    expect(() => norm(value)).not.toThrow();
  });

  it('refuses parameters larger than the byte limit, and 10 MB by default', () => {
    expect(refusal({ s: 'x'.repeat(200) }, 100).message).toContain('maxParametersBytes (100');
    expect(refusal({ s: 'x'.repeat(10 * MB) }).message).toContain('maxParametersBytes');
    expect(() => norm({ s: 'x'.repeat(90) }, 100)).not.toThrow();
  });
});

describe('normalizeParameters: boxed primitives and canonical text', () => {
  it('unwraps boxed primitives as JSON.stringify does', () => {
    const out = norm({
      n: new Number(5),
      s: new String('x'),
      b: new Boolean(false),
      l: [new Number(-0)],
    });
    expect(JSON.stringify(out)).toBe('{"n":5,"s":"x","b":false,"l":[0]}');
    expect(refusal({ n: new Number(NaN) }).path).toBe('$.n');
  });

  it('records the canonical text of the value it returns, byte for byte canonicalJson', () => {
    const input = { z: [1, 2.5e-7, null], a: { é: new Date(0) }, m: undefined };
    const out = norm(input) as Record<string, unknown>;
    expect(canonicalTextOf(out)).toBe(canonicalJson(input));
    expect(canonicalTextOf(out)).toBe(
      '{"a":{"\\u00e9":"1970-01-01T00:00:00.000Z"},"z":[1,2.5e-07,null]}',
    );
    // The value keeps the caller's key order; only the text is sorted.
    expect(Object.keys(out)).toEqual(['z', 'a']);
  });

  it('knows no text for anything it did not return: the input, a copy, a parsed look-alike', () => {
    const input = { a: 1 };
    const out = norm(input) as Record<string, unknown>;
    expect(canonicalTextOf(input)).toBeUndefined();
    expect(canonicalTextOf({ ...out })).toBeUndefined();
    expect(canonicalTextOf(JSON.parse('{"a":1}'))).toBeUndefined();
    expect(canonicalTextOf((norm({ x: { y: 1 } }) as { x: object }).x)).toBeUndefined();
  });

  it('names odd keys in the path the way canonicalJson does', () => {
    expect(refusal({ 'x y': [1, NaN] }).path).toBe('$["x y"][1]');
  });

  it('refuses parameters whose toJSON returns something other than an object', () => {
    expect(refusal({ toJSON: () => 'text' }).path).toBe('$');
    expect(norm({ toJSON: () => null })).toBeNull();
    expect(JSON.stringify(norm({ toJSON: () => ({ a: 1 }) }))).toBe('{"a":1}');
  });

  it('gives toJSON the member key, resolves its result again, and bounds a toJSON chain', () => {
    const keys: string[] = [];
    const spy = { toJSON: (key: string) => (keys.push(key), { n: new Number(1) }) };
    expect(JSON.stringify(norm({ a: spy, list: [spy] }))).toBe('{"a":{"n":1},"list":[{"n":1}]}');
    expect(keys).toEqual(['a', '0']);
    const self = {
      toJSON(): unknown {
        return this;
      },
    };
    expect(refusal({ self }).message).toMatch(/cycle/);
    const endless = (): unknown => ({ toJSON: endless });
    expect(refusal({ e: endless() }).message).toMatch(/toJSON\(\) that keeps returning/);
  });

  it('refuses a Proxy whose getPrototypeOf trap throws, naming the path', () => {
    const trap = new Proxy(
      {},
      {
        getPrototypeOf: () => {
          throw new Error('no proto');
        },
      },
    );
    const error = refusal({ p: trap });
    expect(error.path).toBe('$.p');
    expect(error.message).toContain('no proto');
  });
});
