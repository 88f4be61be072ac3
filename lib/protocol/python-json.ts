/*
 * The pieces of Python's `json.dumps(sort_keys=True, separators=(",", ":"),
 * ensure_ascii=True)` that JavaScript does differently: key order by code
 * point, ASCII-only quoting, and how numbers are printed (docs/protocol.md,
 * "Canonical JSON").
 */

/** The indexes of `names` in code-point order of the names. */
export function sortedOrder(names: readonly string[]): number[] {
  const order: number[] = [];
  for (let i = 0; i < names.length; i++) order.push(i);
  if (order.length > 16) return order.sort((a, b) => compareCodePoints(names[a], names[b]));
  // Insertion sort: no comparator closure for the small objects calls carry.
  for (let i = 1; i < order.length; i++) {
    const index = order[i];
    let j = i - 1;
    while (j >= 0 && compareCodePoints(names[order[j]], names[index]) > 0) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = index;
  }
  return order;
}

/**
 * Python sorts str keys by code point; Array.prototype.sort compares UTF-16
 * units, which puts an astral character (a surrogate pair, 0xD8xx) before
 * U+E000..U+FFFF. Compare code points instead.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Both below the surrogate range, or both at/above it: unit order is code point order.
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate === ySurrogate) return x - y;
    // One is a surrogate and the other is not. A low surrogate right after a
    // (shared) high one completes a pair, an astral code point above anything
    // the other string has here (a lone high surrogate). Otherwise compare code
    // points: a pair's is above 0xFFFF, a lone surrogate's is the unit itself.
    const pairedBefore = i > 0 && isHighSurrogate(a.charCodeAt(i - 1));
    if (pairedBefore && isLowSurrogate(x)) return 1;
    if (pairedBefore && isLowSurrogate(y)) return -1;
    return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
  }
  return a.length - b.length;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: '\\\\',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x08: '\\b',
  0x0c: '\\f',
};

/** Any code unit that quote() escapes: outside space..`~`, a double quote or a backslash. */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

/** Python's ensure_ascii quoting: only space..`~` pass through; surrogates are written unit by unit. */
export function quote(text: string): string {
  // Most texts (ids, timestamps, names) need no escape: one native scan, not a loop in JS.
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let result = '"';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e && unit !== 0x22 && unit !== 0x5c) continue;
    result += text.slice(runStart, i);
    result += SHORT_ESCAPES[unit] ?? `\\u${unit.toString(16).padStart(4, '0')}`;
    runStart = i + 1;
  }
  return result + text.slice(runStart) + '"';
}

/**
 * A finite number as the reference server prints it: one JavaScript writes
 * without '.' or 'e' becomes a Python int and is printed as written; any
 * other becomes a float printed by `repr`.
 */
export function formatNumber(value: number): string {
  // String() writes a finite number exactly as JSON.stringify does (-0 as 0).
  const written = String(value);
  if (Number.isSafeInteger(value)) return written;
  if (!written.includes('.') && !written.includes('e')) return written;
  return pythonFloatRepr(value);
}

/**
 * Python's `repr(float)`: the shortest round-trip digits (the same digits
 * JavaScript picks), positional when the decimal exponent is in [-4, 16),
 * otherwise `d.ddde±XX` with at least two exponent digits.
 */
export function pythonFloatRepr(value: number): string {
  const sign = value < 0 ? '-' : '';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
    const fraction = digits.slice(exponent + 1);
    return `${sign}${whole}.${fraction === '' ? '0' : fraction}`;
  }
  const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
  const magnitude = String(Math.abs(exponent)).padStart(2, '0');
  return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
}
