import { MAX_PARAMETER_DEPTH, walkParameters } from './canonical-json';
import { canonicalTextOf } from './canonical-stamp';
import { InvalidParametersError } from './provenance.errors';
import { Messages, ParameterMessages } from './provenance.messages';

export { MAX_PARAMETER_DEPTH };

/**
 * Turns a call's parameters into the plain JSON value that is evaluated, sent,
 * hashed and audited, or refuses them before anything is sent. One walk
 * (lib/protocol/canonical-json.ts) gives the value and its canonical text
 * together; the text is remembered for the value returned (canonicalTextOf),
 * so the engine this value is handed to does not walk it again. The rules are
 * those of JSON.stringify, made strict where JSON would silently lose or
 * change what the audit log says happened; canonicalJson follows the same:
 *
 * | value                               | becomes                                  |
 * |-------------------------------------|------------------------------------------|
 * | string, finite number, boolean, null | itself (-0 is written 0)                |
 * | boxed primitive (`new Number(5)`, `new String('x')`, `new Boolean(false)`) | its primitive (`5`, `"x"`, `false`) |
 * | `undefined` property                | dropped (as JSON); `undefined` in an array: null |
 * | Date                                | its ISO string (an invalid Date is refused) |
 * | object with `toJSON()`              | what `toJSON(key)` returns, normalised again |
 * | plain or class object               | its own enumerable string keys, `__proto__` and `constructor` kept as ordinary keys |
 * | NaN, ±Infinity                      | refused (JSON would write null)          |
 * | BigInt, function, symbol            | refused                                  |
 * | Map, Set, Buffer, typed array, ArrayBuffer | refused (JSON would write `{}` or a byte list) |
 * | a cycle, or deeper than MAX_PARAMETER_DEPTH (100) levels | refused         |
 * | a getter, toJSON or Proxy trap that throws | refused, naming the path          |
 * | more than `maxBytes` of JSON        | refused                                  |
 *
 * The value returned is a fresh copy (null-prototype objects, in the caller's
 * key order) that belongs to the library: treat it as read-only. Its
 * remembered text is only trusted because nothing changes it.
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
  return walkParameters(action, parameters, maxBytes, ParameterMessages.notSent());
}

/**
 * The engine's edge: `parameters` (an object, already checked to be one) as
 * the engine evaluates and records them. A value normalizeParameters returned
 * is trusted as it is, its text already known; anything else (the engine's
 * public API, the gateway server's parsed bodies) is walked here by the same
 * walker, under the same rules and limit, without a byte cap.
 */
export function acceptParameters(
  action: string,
  parameters: object,
): Record<string, unknown> | null {
  if (canonicalTextOf(parameters) !== undefined) return parameters as Record<string, unknown>;
  return walkParameters(action, parameters, Infinity, ParameterMessages.notDecided());
}
