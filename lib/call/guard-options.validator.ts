import { isDecision } from '../protocol/decision';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { GuardedMessages } from '../protocol/provenance.messages';
import { isValidSessionId } from '../protocol/session-id';
import type { GuardedOptions } from './guard.options';

const KNOWN = new Set(['params', 'sessionId', 'decision', 'raiseOnBlock', 'returns']);

/** Checks options where they are written (class definition, or gateway.guard()), not at the first call. */
export function validateGuardedOptions(where: string, options: unknown): GuardedOptions {
  if (options === undefined) return {};
  const bad = (option: string, expected: string, got: unknown): never => {
    throw new ProvenanceConfigError(
      option,
      GuardedMessages.badGuardedOption(where, option, expected, got),
    );
  };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return bad('options', 'an object', options);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) bad(key, `one of ${[...KNOWN].join(', ')}`, key);
  }
  if (o.params !== undefined && typeof o.params !== 'function') {
    bad('params', 'a function of the arguments', o.params);
  }
  if (o.sessionId !== undefined && !isValidSessionId(o.sessionId)) {
    bad('sessionId', 'a session id of 1-128 characters from [A-Za-z0-9._:-]', o.sessionId);
  }
  if (o.decision !== undefined && !isDecision(o.decision)) {
    bad('decision', 'ALLOW, BLOCK or ESCALATE', o.decision);
  }
  if (o.raiseOnBlock !== undefined && typeof o.raiseOnBlock !== 'boolean') {
    bad('raiseOnBlock', 'true or false', o.raiseOnBlock);
  }
  if (o.returns !== undefined && o.returns !== 'promise' && o.returns !== 'observable') {
    bad('returns', "'promise' or 'observable'", o.returns);
  }
  return o as GuardedOptions;
}
