/**
 * Python's `fnmatch.fnmatchcase` in TypeScript: the glob syntax of policy
 * `action` fields (docs/policy.md, "Action globs"). The syntax follows CPython's
 * `fnmatch.translate` step by step, including its corner cases:
 * - `*` matches any run of characters, dots, newlines and the empty run included;
 * - `?` matches exactly one character (one code point: an emoji is one);
 * - `[abc]`, `[a-z]`, `[!abc]`; a `]` right after `[` or `[!` is a member;
 *   `-` first or last in a set is a member; a range whose start is above its
 *   end is dropped (`[z-a]` matches nothing, `[!z-a]` any one character);
 * - a `[` with no closing `]` is a literal `[`;
 * - everything else, backslash included, is literal (no escapes in fnmatch);
 * - case-sensitive, and the whole name must match.
 *
 * Matching takes linear time, whatever the glob (policies are written by
 * tenants, actions by agents: neither may stall the server). A glob with stars
 * is split at them into segments of fixed width in code points (literal
 * text, `?`, sets). The first segment must match at the start and the last
 * one at the end; each segment between is taken at its leftmost match after
 * the previous one. That choice is always safe: any later match of a segment
 * ends later, leaving the rest of the glob less room, never more, and a star
 * absorbs whatever lies between. So no segment is ever retried at a position
 * it already passed: a name of n code units costs at most n attempts per
 * segment, each as long as the segment, n·|glob| steps in all (about n for
 * the usual globs). A segment is compared as text (startsWith, indexOf) or,
 * with a `?` or a set, by a RegExp of that segment alone: one literal, `.`
 * or class per code point and no quantifier, so it cannot backtrack either.
 *
 * CPython's translation of the whole glob (`translateGlob`: `.*` per star)
 * backtracks once per star within each other star's backtracking:
 * `*a*a*a*a*a*a*a*a*a*b` against 36 `a` took seconds. It is kept as the
 * reference the matcher is tested against, and used to match only globs
 * without a star, where it has no quantifier at all.
 */

import { segmentMatcher } from './fnmatch.segments';
import { ANY, STAR, escapeChar, parseGlob, setSource } from './fnmatch.tokens';

export { globMatchSteps } from './fnmatch.segments';

/** A compiled glob: true when the whole name matches. */
export type GlobMatcher = (name: string) => boolean;

/** True when the pattern has no glob syntax, so it matches exactly one name: itself. */
export function isLiteralGlob(pattern: string): boolean {
  return !/[*?[]/.test(pattern);
}

/** True when the pattern is only stars, so it matches every name. */
export function isCatchAllGlob(pattern: string): boolean {
  return /^\*+$/.test(pattern);
}

/**
 * The regular-expression source (for the flags `su`) equivalent to the glob,
 * anchored at both ends. CPython's translation: the reference of the matcher's
 * tests. Do not match untrusted names with it (it backtracks).
 */
export function translateGlob(pattern: string): string {
  let out = '';
  for (const token of parseGlob(pattern)) {
    if (token === STAR) out += '.*';
    else if (token === ANY) out += '.';
    else if (typeof token === 'string') out += escapeChar(token);
    else out += setSource(token);
  }
  return `^(?:${out})$`;
}

/** A RegExp equivalent to the glob (whole-string, case-sensitive, `.` spans newlines). Backtracks: see translateGlob. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(translateGlob(pattern), 'su');
}

/**
 * Compiles the glob once into the cheapest matcher that is exact: equality
 * for a literal, a constant for a catch-all, prefix/suffix tests for
 * `literal*` and `*literal`, the RegExp for a glob without a star, else the
 * segment matcher (linear, see above).
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (isLiteralGlob(pattern)) return (name) => name === pattern;
  if (isCatchAllGlob(pattern)) return () => true;
  // Plain code-unit tests are exact unless a lone surrogate at the literal's inner end
  // could pair up with its neighbour in the name: those go to the segment matcher.
  const trailing = /^([^*?[]*[^*?[\ud800-\udbff])\*+$/.exec(pattern);
  if (trailing) {
    const prefix = trailing[1];
    return (name) => name.startsWith(prefix);
  }
  const leading = /^\*+([^*?[\udc00-\udfff][^*?[]*)$/.exec(pattern);
  if (leading) {
    const suffix = leading[1];
    return (name) => name.endsWith(suffix);
  }
  const tokens = parseGlob(pattern);
  if (!tokens.includes(STAR)) {
    // No star, no quantifier: the RegExp tries position 0 once, one token per character,
    // so it cannot backtrack, and it is the fastest exact test of `data.?ead` or `[a-c]x`.
    const regex = globToRegExp(pattern);
    return (name) => regex.test(name);
  }
  return segmentMatcher(tokens);
}

/** `fnmatch.fnmatchcase(name, pattern)`. Compiles on every call: compile once with compileGlob for repeated use. */
export function fnmatch(name: string, pattern: string): boolean {
  return compileGlob(pattern)(name);
}
