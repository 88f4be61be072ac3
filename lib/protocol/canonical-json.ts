import { hash } from 'node:crypto';
import { AuditMessages } from '../engine/engine.messages';
import { CanonicalJsonError } from '../engine/audit/audit.errors';

/**
 * Containers nested deeper than this are refused. Python's own `json` module
 * gives up near 1000 levels (its recursion limit), so a reference server could
 * not hash such a value either; the limit also keeps our recursion far from
 * the JS stack limit.
 */
export const MAX_CANONICAL_DEPTH = 1000;

/**
 * Canonical JSON, byte for byte what the reference server computes with
 * `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`
 * after parsing the JSON this value becomes (PROTOCOL.md "Hashes").
 *
 * What "the JSON this value becomes" means follows JSON.stringify: `toJSON`
 * is called (Dates become ISO strings), boxed primitives are unwrapped,
 * `undefined` properties are dropped, `undefined` array items become null,
 * -0 is written 0. Where JSON.stringify would silently record something other
 * than the value, we refuse with a `CanonicalJsonError` naming the path instead,
 * because an audit record of a different call is worse than no call:
 * functions and symbols (dropped by JSON.stringify), Map and Set (written as
 * {}), NaN and ±Infinity (written as null), BigInt, cycles, and nesting deeper
 * than MAX_CANONICAL_DEPTH. A top-level `undefined` is refused too.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  try {
    write(value, '', [], 0, [], out);
  } catch (error) {
    // The depth limit keeps us far from the stack limit, but a caller already
    // deep in its own stack could still hit it: report it as ours, never as a crash.
    if (error instanceof RangeError) {
      throw new CanonicalJsonError('$', AuditMessages.tooDeep('$', MAX_CANONICAL_DEPTH));
    }
    throw error;
  }
  return out.join('');
}

/**
 * What `canonicalJson({ ..., [key]: value })` writes for the member `value`,
 * and throws for it: `toJSON` receives `key`, the depth limit counts the
 * enclosing object and error paths start `$.<key>`. Lets a caller canonicalise
 * one member once and splice it into the object's text (object members other
 * than `value` then cannot fail and are quoted strings). `value` is not
 * undefined (an object drops such a member).
 */
export function canonicalMemberJson(key: string, value: unknown): string {
  const out: string[] = [];
  try {
    write(value, key, [key], 1, [], out);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new CanonicalJsonError('$', AuditMessages.tooDeep('$', MAX_CANONICAL_DEPTH));
    }
    throw error;
  }
  return out.join('');
}

/** sha256 (hex) of the canonical JSON of a value: the reference server's `payload_hash`. */
export function payloadHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

export function sha256Hex(text: string): string {
  // One-shot crypto.hash (Node >= 20.12; engines asks >= 20.19): the same
  // digest of the UTF-8 bytes without a Hash object per call, about twice as fast.
  return hash('sha256', text, 'hex');
}

/**
 * `keys` is the path from the root to `input` (member names and array
 * indexes). It is only rendered into a `$.a[0]` string when something fails:
 * building that string for every member was a measurable share of the work.
 */
function write(
  input: unknown,
  key: string,
  keys: Array<string | number>,
  depth: number,
  ancestors: object[],
  out: string[],
): void {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as any).toJSON === 'function') {
    value = (value as any).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    value = value.valueOf();
  }
  switch (typeof value) {
    case 'string':
      out.push(quote(value));
      return;
    case 'number':
      out.push(formatNumber(value, keys));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint': {
      const path = renderPath(keys);
      throw new CanonicalJsonError(path, AuditMessages.bigint(path));
    }
    case 'function':
    case 'symbol': {
      const path = renderPath(keys);
      throw new CanonicalJsonError(path, AuditMessages.notJsonValue(path, typeof value));
    }
    case 'undefined':
      // Only reached for the root: containers handle undefined members themselves.
      throw new CanonicalJsonError(renderPath(keys), AuditMessages.undefinedRoot());
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const object = value as object;
  if (object instanceof Map || object instanceof Set) {
    const path = renderPath(keys);
    throw new CanonicalJsonError(path, AuditMessages.collection(path, object.constructor.name));
  }
  if (depth >= MAX_CANONICAL_DEPTH) {
    const path = renderPath(keys);
    throw new CanonicalJsonError(path, AuditMessages.tooDeep(path, MAX_CANONICAL_DEPTH));
  }
  if (ancestors.includes(object)) {
    const path = renderPath(keys);
    throw new CanonicalJsonError(path, AuditMessages.cycle(path));
  }
  ancestors.push(object);
  if (Array.isArray(object)) {
    out.push('[');
    for (let index = 0; index < object.length; index++) {
      if (index > 0) out.push(',');
      const item: unknown = object[index];
      if (item === undefined) {
        out.push('null');
      } else {
        keys.push(index);
        write(item, String(index), keys, depth + 1, ancestors, out);
        keys.pop();
      }
    }
    out.push(']');
  } else {
    const record = object as Record<string, unknown>;
    const names = Object.keys(record).sort(compareCodePoints);
    out.push('{');
    let first = true;
    for (const name of names) {
      const member = record[name];
      if (member === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(quote(name), ':');
      keys.push(name);
      write(member, name, keys, depth + 1, ancestors, out);
      keys.pop();
    }
    out.push('}');
  }
  ancestors.pop();
}

/** `$`, then `.name`, `["odd name"]` or `[index]` per step. */
function renderPath(keys: ReadonlyArray<string | number>): string {
  let path = '$';
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else path += /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return path;
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

/** Python's ensure_ascii quoting: only space..`~` pass through; surrogates are written unit by unit. */
export function quote(text: string): string {
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
 * The reference server parses what the client sent: a number JavaScript
 * writes without '.' or 'e' becomes a Python int and is printed as written;
 * any other becomes a float printed by `repr`.
 */
function formatNumber(value: number, keys: ReadonlyArray<string | number>): string {
  // The common case, without JSON.stringify and a regex: String() writes a
  // safe integer exactly as JSON.stringify does (digits only, -0 as 0).
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isFinite(value)) {
    const path = renderPath(keys);
    throw new CanonicalJsonError(path, AuditMessages.notFinite(path, value));
  }
  const written = JSON.stringify(value);
  if (!/[.e]/.test(written)) return written;
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
