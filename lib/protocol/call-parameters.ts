import { InvalidParametersError } from './provenance.errors';
import { Messages } from './provenance.messages';

/** Deeper than this is refused: no tool call needs it, and a recursive walk must never blow the stack. */
export const MAX_PARAMETER_DEPTH = 100;

/**
 * Turns a call's parameters into the plain JSON value that is sent, hashed
 * and audited, or refuses them before anything is sent. The rules are those
 * of JSON.stringify, made strict where JSON would silently lose or change
 * what the audit log says happened:
 *
 * | value                               | becomes                                  |
 * |-------------------------------------|------------------------------------------|
 * | string, finite number, boolean, null | itself                                  |
 * | `undefined` property                | dropped (as JSON); `undefined` in an array: null |
 * | Date                                | its ISO string (an invalid Date is refused) |
 * | object with `toJSON()`              | what `toJSON()` returns, normalised again |
 * | plain or class object               | its own enumerable string keys, `__proto__` and `constructor` kept as ordinary keys |
 * | NaN, ±Infinity                      | refused (JSON would write null)          |
 * | BigInt, function, symbol            | refused                                  |
 * | Map, Set, Buffer, typed array, ArrayBuffer | refused (JSON would write `{}` or a byte list) |
 * | a cycle, or deeper than 100 levels  | refused                                  |
 * | a getter, toJSON or Proxy trap that throws | refused, naming the path          |
 * | more than `maxBytes` of JSON        | refused                                  |
 */
export function normalizeParameters(
  action: string,
  parameters: unknown,
  maxBytes: number,
): Record<string, unknown> | null {
  if (parameters === undefined || parameters === null) return null;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new InvalidParametersError(action, '$', Messages.badParameters(action, parameters));
  }
  const seen = new Set<object>();
  const budget: Budget = { left: maxBytes, max: maxBytes };
  const out = normalize(action, parameters, '$', 0, seen, budget);
  return out as Record<string, unknown>;
}

function refuse(action: string, path: string, what: string): never {
  throw new InvalidParametersError(
    action,
    path,
    `nestjs-provenance: parameters of '${action}' cannot be audited: ${path} ${what}. Nothing was sent.`,
  );
}

/**
 * Reads a property or calls toJSON: a getter or toJSON that throws (or a Proxy
 * trap) becomes a refusal naming the path, never a stray Error from the gate.
 */
function read<T>(action: string, path: string, get: () => T, what = 'could not be read'): T {
  try {
    return get();
  } catch (error) {
    if (error instanceof InvalidParametersError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    return refuse(action, path, `${what}: ${why}`);
  }
}

interface Budget {
  left: number;
  readonly max: number;
}

// Counts UTF-16 units plus punctuation: close to the JSON size, and cheap.
function charge(action: string, budget: Budget, bytes: number): void {
  budget.left -= bytes;
  if (budget.left < 0) {
    refuse(action, '$', `is larger than maxParametersBytes (${budget.max} bytes of JSON)`);
  }
}

function normalize(
  action: string,
  value: unknown,
  path: string,
  depth: number,
  seen: Set<object>,
  budget: Budget,
): unknown {
  switch (typeof value) {
    case 'string':
      charge(action, budget, value.length + 2);
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(action, path, `is ${value}, which JSON cannot represent`);
      charge(action, budget, 8);
      return value;
    case 'boolean':
      charge(action, budget, 5);
      return value;
    case 'bigint':
      return refuse(action, path, 'is a BigInt; pass it as a string or a number');
    case 'function':
      return refuse(action, path, 'is a function');
    case 'symbol':
      return refuse(action, path, 'is a symbol');
    case 'undefined':
      return undefined;
  }
  if (value === null) {
    charge(action, budget, 4);
    return null;
  }
  const obj = value as object;
  if (depth >= MAX_PARAMETER_DEPTH) {
    refuse(action, path, `is nested more than ${MAX_PARAMETER_DEPTH} levels deep`);
  }
  if (seen.has(obj)) refuse(action, path, 'refers back to an enclosing object (a cycle)');
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) refuse(action, path, 'is an invalid Date');
    return normalize(action, obj.toISOString(), path, depth, seen, budget);
  }
  if (
    obj instanceof Map ||
    obj instanceof Set ||
    obj instanceof WeakMap ||
    obj instanceof WeakSet
  ) {
    refuse(action, path, `is a ${obj.constructor.name}; convert it to an object or an array`);
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
    refuse(action, path, 'is binary data; pass a string (e.g. base64) or a hash instead');
  }
  if (obj instanceof Promise) refuse(action, path, 'is a Promise; await it first');
  const toJSON = read(action, path, () => (obj as { toJSON?: unknown }).toJSON);
  if (typeof toJSON === 'function') {
    seen.add(obj);
    const json = read(action, path, () => toJSON.call(obj, '') as unknown, 'toJSON() threw');
    const replaced = normalize(action, json, path, depth, seen, budget);
    seen.delete(obj);
    return replaced;
  }
  seen.add(obj);
  charge(action, budget, 2);
  let out: unknown;
  if (Array.isArray(obj)) {
    const arr: unknown[] = new Array(obj.length);
    for (let i = 0; i < obj.length; i++) {
      const item = normalize(action, obj[i], `${path}[${i}]`, depth + 1, seen, budget);
      arr[i] = item === undefined ? null : item;
    }
    out = arr;
  } else {
    // A null-prototype object keeps `__proto__` as an ordinary key instead of
    // turning it into a prototype switch.
    const rec: Record<string, unknown> = Object.create(null);
    for (const key of read(action, path, () => Object.keys(obj))) {
      const item = normalize(
        action,
        read(action, `${path}.${key}`, () => (obj as Record<string, unknown>)[key]),
        `${path}.${key}`,
        depth + 1,
        seen,
        budget,
      );
      if (item !== undefined) {
        charge(action, budget, key.length + 3);
        rec[key] = item;
      }
    }
    out = rec;
  }
  seen.delete(obj);
  return out;
}
