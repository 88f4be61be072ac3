import { isLiteralGlob } from './fnmatch';
import type { CompiledRule } from './policy.rule';

/**
 * The literal index: rules whose action is a literal name sit in a Map from
 * that name to its rules, the others (real globs) in one list, both in
 * document order. The candidates of an action (its literal rules merged in
 * document order with the glob rules that match it) are computed once and
 * remembered by the compiled policy, so a large policy costs a Map lookup per
 * call, not a glob test per rule.
 */
export interface RuleIndex {
  readonly literal: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly globs: readonly CompiledRule[];
}

/** Candidate lists remembered per action, by the policy that owns them. */
export type CandidateCache = Map<string, readonly CompiledRule[]>;

/** Distinct actions whose candidate rules are remembered; beyond it the cache starts over. */
const CANDIDATE_CACHE_LIMIT = 1024;

export function indexRules(rules: readonly CompiledRule[]): RuleIndex {
  const literal = new Map<string, CompiledRule[]>();
  const globs: CompiledRule[] = [];
  for (const rule of rules) {
    if (isLiteralGlob(rule.glob)) {
      const list = literal.get(rule.glob);
      if (list) list.push(rule);
      else literal.set(rule.glob, [rule]);
    } else {
      globs.push(rule);
    }
  }
  return { literal, globs };
}

/** The rules that can decide `action`, in document order, computed and remembered in `cache` (on a miss of its lookup). */
export function cacheCandidates(
  cache: CandidateCache,
  index: RuleIndex,
  action: string,
): readonly CompiledRule[] {
  const merged = mergeCandidates(index, action);
  // Bounded: action names may come from untrusted input; starting over keeps memory flat.
  if (cache.size >= CANDIDATE_CACHE_LIMIT) cache.clear();
  cache.set(action, merged);
  return merged;
}

function mergeCandidates(index: RuleIndex, action: string): CompiledRule[] {
  const literal = index.literal.get(action);
  const globs = index.globs;
  const merged: CompiledRule[] = [];
  let l = 0;
  let g = 0;
  const literalCount = literal === undefined ? 0 : literal.length;
  while (l < literalCount || g < globs.length) {
    if (g >= globs.length || (l < literalCount && literal![l].index < globs[g].index)) {
      merged.push(literal![l++]);
    } else {
      const rule = globs[g++];
      if (rule.matches(action)) merged.push(rule);
    }
  }
  return merged;
}
