/**
 * How condition values compare (docs/policy.md, "Values and types"; was "Policy
 * document"): JSON values, no coercion. Numbers compare numerically and
 * strings by Unicode code point; the ordering operators compare nothing else
 * (a boolean is not a number, arrays are not ordered). Equality is deep for
 * arrays and objects. Where Python would raise (and the reference server
 * answer 500), the comparison simply does not hold and the condition fails.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Orders two strings by code point. JavaScript's `<` compares UTF-16 code
 * units, which puts an astral character (a surrogate pair, 0xD800..) before
 * U+E000..U+FFFF; Python compares code points and so must we.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  let i = 0;
  while (i < length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === length) return a.length - b.length;
  // The strings may differ in the low half of a pair that starts one unit earlier.
  if (i > 0 && isHighSurrogate(a.charCodeAt(i - 1))) i--;
  return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/**
 * `<0`, `0` or `>0` when both are numbers or both are strings; NaN otherwise,
 * which makes every ordering test (`<`, `<=`, ...) false.
 */
export function orderValues(actual: unknown, expected: unknown): number {
  if (typeof actual === 'number' && typeof expected === 'number') return actual - expected;
  if (typeof actual === 'string' && typeof expected === 'string') {
    return compareCodePoints(actual, expected);
  }
  return NaN;
}

/**
 * Deep equality of JSON values. `undefined` (a missing field, or a key whose
 * value JSON would drop) reads as null. Numbers compare by value, so 1 and
 * 1.0 are equal; a boolean never equals a number.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const aIsArray = Array.isArray(a);
  if (aIsArray !== Array.isArray(b)) return false;
  if (aIsArray) {
    const left = a as unknown[];
    const right = b as unknown[];
    if (left.length !== right.length) return false;
    for (let i = 0; i < left.length; i++) if (!jsonEqual(left[i], right[i])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let leftKeys = 0;
  for (const key in left) {
    if (!hasOwn.call(left, key) || left[key] === undefined) continue;
    leftKeys++;
    if (!hasOwn.call(right, key) || !jsonEqual(left[key], right[key])) return false;
  }
  let rightKeys = 0;
  for (const key in right) {
    if (hasOwn.call(right, key) && right[key] !== undefined) rightKeys++;
  }
  return leftKeys === rightKeys;
}
