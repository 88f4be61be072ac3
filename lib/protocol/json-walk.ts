import { InvalidParametersError } from './provenance.errors';
import { ParameterMessages } from './provenance.messages';
import { compareCodePoints, formatNumber, quote, sortedOrder } from './python-json';

/*
 * The walk itself (see canonical-json.ts for what it is for and its entry
 * points): one recursive pass over a value that builds the normalised copy and
 * appends its canonical text, refusing what JSON would silently change.
 */

/** More toJSON() results with their own toJSON() in a row than this are refused. */
const MAX_TOJSON_HOPS = 100;

/** One walk's state. `keys` is the path from the root to the value being walked. */
export interface Walk {
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

export function newWalk(
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

export function run(walk: Walk, value: unknown): unknown {
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
  // Made from a literal, not Object.create(null), whose objects V8 keeps as
  // dictionaries (a 256-byte property table each, slower to build and read).
  const out: Record<string, unknown> | null = walk.build
    ? (Object.setPrototypeOf({}, null) as Record<string, unknown>)
    : null;
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

export function refuseAt(walk: Walk, path: string, problem: string): never {
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

export function pathStep(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
