import { hash } from 'node:crypto';
import { InvalidParametersError } from './provenance.errors';
import { ParameterMessages } from './provenance.messages';

/**
 * The one JSON walker of the library. Call parameters (normalizeParameters in
 * call-parameters.ts, for the gateway service and the engine's edge) and
 * canonicalJson are the same walk: it produces, in one pass, the normalised
 * value (a fresh copy: what the policy evaluates and what is sent) and its
 * canonical text (what is hashed and audited), so the two cannot disagree.
 * Its rules are the table on normalizeParameters; the text is byte for byte
 * what the reference server computes with `json.dumps(obj, sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True)` after parsing the JSON the value
 * becomes (docs/protocol.md, "Hashes").
 */

/**
 * The one depth limit: a value may nest at most this many containers (the
 * parameters object itself is the first). 100 because no tool call needs
 * more, because the gateway service has refused anything deeper since 0.1 (so
 * every call ever audited through it fits), and because it keeps the walk's
 * recursion far from the JavaScript stack limit even for a caller already
 * deep in its own stack. The engine's edge and canonicalJson apply it too.
 */
export const MAX_PARAMETER_DEPTH = 100;

/**
 * @deprecated since 0.2: canonical JSON has the call parameters' one limit,
 * MAX_PARAMETER_DEPTH (it was 1000 levels, counted differently). Removed in 0.3.
 */
export const MAX_CANONICAL_DEPTH = MAX_PARAMETER_DEPTH;

/**
 * Re-hashing records already in an audit log (verification, recovery) is a
 * bound on reading, not on what is accepted: an engine before 0.2 took
 * parameters up to 999 levels deep, and its logs must still verify.
 */
const MAX_STORED_DEPTH = 1000;

/** More toJSON() results with their own toJSON() in a row than this are refused. */
const MAX_TOJSON_HOPS = MAX_PARAMETER_DEPTH;

/** Returns the object it is given from its constructor, so a subclass can stamp a private field on it. */
class Passthrough {
  constructor(target: object) {
    return target;
  }
}

/**
 * The canonical text of each normalised root this module made: what
 * normalizeParameters returned, and parseCanonical's copies (the audit log's
 * event parameters, while they are being stored), stamped on the value as a
 * private field. Only this class can add or read the field, and only this
 * module stamps, only fresh objects it built itself: a caller cannot pass off
 * a look-alike (a plain or null-prototype object of the same shape has no
 * field and is walked), and the field is invisible to Object.keys, JSON and
 * structuredClone. (A private field rather than a WeakMap: no ephemeron
 * table for the garbage collector to trace on every call, and forgetting is a
 * write, not a delete.) The text is trusted for as long as the value is not
 * changed: normalised values are read-only by contract, and nothing in lib
 * writes to one.
 */
class CanonicalStamp extends Passthrough {
  #text: string | undefined;

  private constructor(target: object, text: string) {
    super(target);
    this.#text = text;
  }

  static stamp(target: object, text: string): void {
    if (#text in target) (target as CanonicalStamp).#text = text;
    else new CanonicalStamp(target, text);
  }

  static textOf(value: object): string | undefined {
    return #text in value ? (value as CanonicalStamp).#text : undefined;
  }

  static forget(value: object): void {
    if (#text in value) (value as CanonicalStamp).#text = undefined;
  }
}

/** The canonical text of a value this module normalised (see CanonicalStamp), or undefined. */
export function canonicalTextOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? CanonicalStamp.textOf(value) : undefined;
}

/**
 * A fresh copy of the value a canonical text stands for (JSON.parse of it,
 * whose own canonical text is that text again), remembered with the text like
 * a normalised value. The audit log keeps such a copy in each event.
 */
export function parseCanonical(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (typeof value === 'object' && value !== null) CanonicalStamp.stamp(value, text);
  return value;
}

/** Lets go of a value's remembered text (the audit log, once the event is stored). */
export function forgetCanonicalText(value: unknown): void {
  if (typeof value === 'object' && value !== null) CanonicalStamp.forget(value);
}

/**
 * Canonical JSON of any value, under the walker's rules (the table on
 * normalizeParameters: toJSON, Dates, boxed primitives, undefined members
 * dropped, undefined array items null, -0 written 0) and its depth limit.
 * Throws `InvalidParametersError` (its `action` is '') naming the path, where
 * JSON.stringify would silently write something other than the value; a
 * top-level `undefined` is refused too.
 */
export function canonicalJson(value: unknown): string {
  return canonicalTextFor(null, value, '');
}

/**
 * canonicalJson, with refusals worded for a call: naming `action` and ending
 * with `ending` (the audit log's own append: 'Nothing was recorded.').
 */
export function canonicalTextFor(action: string | null, value: unknown, ending: string): string {
  const walk = newWalk(action, ending, false, MAX_PARAMETER_DEPTH, Infinity, '', '$');
  if (run(walk, value) === undefined) refuseAt(walk, '$', ParameterMessages.undefinedRoot());
  return walk.text;
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
 * The walk behind normalizeParameters: the normalised copy of a parameters
 * object, remembered with its canonical text (canonicalTextOf). Null when the
 * object's toJSON() gives null or undefined; refused when it gives anything
 * else that is not an object. `ending` says what a refusal means for the
 * caller ('Nothing was sent.').
 */
export function walkParameters(
  action: string,
  parameters: object,
  maxBytes: number,
  ending: string,
): Record<string, unknown> | null {
  const walk = newWalk(action, ending, true, MAX_PARAMETER_DEPTH, maxBytes, '', '$');
  const out = run(walk, parameters);
  if (out === null || out === undefined) return null;
  if (typeof out !== 'object' || Array.isArray(out)) {
    refuseAt(walk, '$', ParameterMessages.notAnObject());
  }
  CanonicalStamp.stamp(out as object, walk.text);
  return out as Record<string, unknown>;
}

/**
 * What canonicalJson of a record already in an audit log writes for its
 * member `key` (not undefined), to re-hash the record: toJSON gets `key`, and
 * the depth allowed is MAX_STORED_DEPTH, counted from the member.
 */
export function canonicalStoredMember(key: string, value: unknown): string {
  const walk = newWalk(null, '', false, MAX_STORED_DEPTH, Infinity, key, pathStep('$', key));
  run(walk, value);
  return walk.text;
}

/** One walk's state. `keys` is the path from the root to the value being walked. */
interface Walk {
  /** Named in refusals; null for canonicalJson, whose messages start with the path. */
  readonly action: string | null;
  readonly ending: string;
  /** Build the normalised copy (false: only the text is wanted). */
  readonly build: boolean;
  readonly maxDepth: number;
  readonly maxBytes: number;
  /** Bytes of JSON left before maxBytes is exceeded (UTF-16 units plus punctuation: close, and cheap). */
  left: number;
  /** The key toJSON() of the root receives, and the path the root is at. */
  readonly rootKey: string;
  readonly rootPath: string;
  readonly keys: Array<string | number>;
  readonly ancestors: object[];
  /** The canonical text of the value walked last. */
  text: string;
}

function newWalk(
  action: string | null,
  ending: string,
  build: boolean,
  maxDepth: number,
  maxBytes: number,
  rootKey: string,
  rootPath: string,
): Walk {
  return {
    action,
    ending,
    build,
    maxDepth,
    maxBytes,
    left: maxBytes,
    rootKey,
    rootPath,
    keys: [],
    ancestors: [],
    text: '',
  };
}

function run(walk: Walk, value: unknown): unknown {
  try {
    return visit(walk, value, 0);
  } catch (error) {
    // The depth limit keeps us far from the stack limit, but a caller already
    // deep in its own stack could still hit it: report it as ours, never as a crash.
    if (error instanceof RangeError) {
      refuseAt(walk, renderPath(walk), ParameterMessages.tooDeep(walk.maxDepth));
    }
    throw error;
  }
}

/**
 * Walks one value: returns its normalised form (undefined for a value an
 * object drops; with `build` false, any other value stands for the copy) and
 * leaves its canonical text in `walk.text`.
 */
function visit(walk: Walk, input: unknown, depth: number): unknown {
  const value = typeof input === 'object' && input !== null ? resolve(walk, input) : input;
  switch (typeof value) {
    case 'string':
      charge(walk, value.length + 2);
      walk.text = quote(value);
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(walk, ParameterMessages.notFinite(value));
      charge(walk, 8);
      walk.text = formatNumber(value);
      return value;
    case 'boolean':
      charge(walk, 5);
      walk.text = value ? 'true' : 'false';
      return value;
    case 'bigint':
      return refuse(walk, ParameterMessages.bigint());
    case 'function':
      return refuse(walk, ParameterMessages.fn());
    case 'symbol':
      return refuse(walk, ParameterMessages.symbol());
    case 'undefined':
      return undefined;
  }
  if (value === null) {
    charge(walk, 4);
    walk.text = 'null';
    return null;
  }
  const container = value as object;
  if (depth >= walk.maxDepth) refuse(walk, ParameterMessages.tooDeep(walk.maxDepth));
  const ancestors = walk.ancestors;
  if (ancestors.includes(container)) refuse(walk, ParameterMessages.cycle());
  ancestors.push(container);
  charge(walk, 2);
  const out = Array.isArray(container)
    ? visitArray(walk, container as unknown[], depth)
    : visitObject(walk, container as Record<string, unknown>, depth);
  ancestors.pop();
  return out;
}

const DATE_TIME = Date.prototype.getTime;
const DATE_ISO = Date.prototype.toISOString;
const NUMBER_VALUE = Number.prototype.valueOf;
const STRING_VALUE = String.prototype.valueOf;
const BOOLEAN_VALUE = Boolean.prototype.valueOf;

/**
 * What JSON writes for an object: a Date's ISO string, what toJSON() returns
 * (resolved again), a boxed primitive's value (read from the box itself, not
 * through an overridable valueOf), or the object itself when it is a
 * container. Refuses what JSON would silently write as something else. A
 * Proxy trap or getter that throws becomes a refusal naming the path.
 */
function resolve(walk: Walk, input: object): unknown {
  let object = input;
  for (let hops = 0; ; hops++) {
    let toJSON: unknown;
    try {
      const proto: unknown = Object.getPrototypeOf(object);
      // Plain objects and arrays, by far the most common, skip the class checks.
      if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
        const special = classify(walk, object);
        if (special !== object) return special;
      }
      toJSON = (object as { toJSON?: unknown }).toJSON;
    } catch (error) {
      if (error instanceof InvalidParametersError) throw error;
      return refuse(walk, ParameterMessages.unreadable(reason(error)));
    }
    if (typeof toJSON !== 'function') return object;
    if (hops >= MAX_TOJSON_HOPS) refuse(walk, ParameterMessages.toJsonLoop(MAX_TOJSON_HOPS));
    let next: unknown;
    try {
      next = toJSON.call(object, currentKey(walk)) as unknown;
    } catch (error) {
      if (error instanceof InvalidParametersError) throw error;
      return refuse(walk, ParameterMessages.toJsonThrew(reason(error)));
    }
    if (next === object) refuse(walk, ParameterMessages.cycle());
    if (typeof next !== 'object' || next === null) return next;
    object = next;
  }
}

/** A Date, a boxed primitive or a refused class instance, resolved; the object itself otherwise. */
function classify(walk: Walk, object: object): unknown {
  if (object instanceof Date) {
    if (Number.isNaN(DATE_TIME.call(object))) refuse(walk, ParameterMessages.invalidDate());
    return DATE_ISO.call(object);
  }
  if (object instanceof Number) return NUMBER_VALUE.call(object);
  if (object instanceof String) return STRING_VALUE.call(object);
  if (object instanceof Boolean) return BOOLEAN_VALUE.call(object);
  if (object instanceof BigInt) refuse(walk, ParameterMessages.bigint());
  if (object instanceof Symbol) refuse(walk, ParameterMessages.symbol());
  if (object instanceof Map) refuse(walk, ParameterMessages.collection('Map'));
  if (object instanceof Set) refuse(walk, ParameterMessages.collection('Set'));
  if (object instanceof WeakMap) refuse(walk, ParameterMessages.collection('WeakMap'));
  if (object instanceof WeakSet) refuse(walk, ParameterMessages.collection('WeakSet'));
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    refuse(walk, ParameterMessages.binary());
  }
  if (object instanceof Promise) refuse(walk, ParameterMessages.promise());
  return object;
}

function visitArray(walk: Walk, array: unknown[], depth: number): unknown {
  const keys = walk.keys;
  let length: number;
  try {
    length = array.length;
  } catch (error) {
    return refuse(walk, ParameterMessages.unreadable(reason(error)));
  }
  const out: unknown[] | null = walk.build ? [] : null;
  let text = '[';
  for (let index = 0; index < length; index++) {
    keys.push(index);
    let item: unknown;
    try {
      item = array[index];
    } catch (error) {
      refuse(walk, ParameterMessages.unreadable(reason(error)));
    }
    const value = item === undefined ? undefined : visit(walk, item, depth + 1);
    keys.pop();
    if (index > 0) text += ',';
    // As JSON: an undefined item (or one whose toJSON gives undefined) is null.
    if (value === undefined) {
      text += 'null';
      out?.push(null);
    } else {
      text += walk.text;
      out?.push(value);
    }
  }
  walk.text = `${text}]`;
  return out ?? array;
}

function visitObject(walk: Walk, object: Record<string, unknown>, depth: number): unknown {
  const keys = walk.keys;
  let names: string[];
  try {
    names = Object.keys(object);
  } catch (error) {
    return refuse(walk, ParameterMessages.unreadable(reason(error)));
  }
  const count = names.length;
  // A null-prototype copy keeps `__proto__` as an ordinary key instead of
  // turning it into a prototype switch; it keeps the caller's key order.
  const out: Record<string, unknown> | null = walk.build ? Object.create(null) : null;
  let sorted = true;
  for (let i = 1; i < count; i++) {
    if (compareCodePoints(names[i - 1], names[i]) > 0) {
      sorted = false;
      break;
    }
  }
  // Sorted names (the common case for small objects) are written as they come;
  // otherwise each member's text waits for the order.
  const members: string[] | null = sorted ? null : [];
  let text = '{';
  let first = true;
  for (let i = 0; i < count; i++) {
    const name = names[i];
    keys.push(name);
    let item: unknown;
    try {
      item = object[name];
    } catch (error) {
      refuse(walk, ParameterMessages.unreadable(reason(error)));
    }
    const value = item === undefined ? undefined : visit(walk, item, depth + 1);
    keys.pop();
    if (value === undefined) {
      members?.push('');
      continue;
    }
    charge(walk, name.length + 3);
    if (out !== null) out[name] = value;
    const member = `${quote(name)}:${walk.text}`;
    if (members !== null) {
      members.push(member);
    } else {
      text += first ? member : `,${member}`;
      first = false;
    }
  }
  if (members !== null) {
    for (const i of sortedOrder(names)) {
      const member = members[i];
      if (member === '') continue;
      text += first ? member : `,${member}`;
      first = false;
    }
  }
  walk.text = `${text}}`;
  return out ?? object;
}

/** The indexes of `names` in code-point order of the names. */
function sortedOrder(names: readonly string[]): number[] {
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

function charge(walk: Walk, bytes: number): void {
  walk.left -= bytes;
  if (walk.left < 0) refuseAt(walk, '$', ParameterMessages.tooLarge(walk.maxBytes));
}

function currentKey(walk: Walk): string {
  const keys = walk.keys;
  return keys.length === 0 ? walk.rootKey : String(keys[keys.length - 1]);
}

function refuse(walk: Walk, problem: string): never {
  return refuseAt(walk, renderPath(walk), problem);
}

function refuseAt(walk: Walk, path: string, problem: string): never {
  throw new InvalidParametersError(
    walk.action ?? '',
    path,
    ParameterMessages.refused(walk.action, path, problem, walk.ending),
  );
}

function reason(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'a value that cannot be printed';
  }
}

/**
 * `$`, then `.name`, `["odd name"]` or `[index]` per step. Only rendered when
 * something fails: building it for every member was a measurable share of the work.
 */
function renderPath(walk: Walk): string {
  let path = walk.rootPath;
  for (const key of walk.keys) path = pathStep(path, key);
  return path;
}

function pathStep(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
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
 * A finite number as the reference server prints it: one JavaScript writes
 * without '.' or 'e' becomes a Python int and is printed as written; any
 * other becomes a float printed by `repr`.
 */
function formatNumber(value: number): string {
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
