import { InvalidParametersError } from '../../../lib/protocol/provenance.errors';
import { MAX_PARAMETER_DEPTH, normalizeParameters } from '../../../lib/protocol/call-parameters';

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
