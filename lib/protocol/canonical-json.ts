import { hash } from 'node:crypto';
import { ParameterMessages } from './provenance.messages';
import { CanonicalStamp, parametersTextOf } from './canonical-stamp';
import { newWalk, pathStep, refuseAt, run } from './json-walk';

// Part of this module's surface before the split; kept for importers.
export { canonicalTextOf } from './canonical-stamp';
export { pythonFloatRepr, quote } from './python-json';

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

/**
 * The payload hash of parameters this module normalised, from their
 * remembered text (no second walk): what an approval and a grant bind to.
 */
export function normalizedPayloadHash(parameters: Record<string, unknown> | null): string {
  return sha256Hex(parametersTextOf(parameters) as string);
}
