/**
 * The linear matcher of a glob with stars (fnmatch.ts explains why it is
 * linear): the glob split at its stars into segments of fixed width, each
 * taken at its leftmost match, and the step counter that proves it in tests.
 * Everything a match runs is in this module.
 */

import { ANY, type GlobSet, type GlobToken, STAR, escapeChar, setSource } from './fnmatch.tokens';

/** The step counter, unboxed: a plain number would turn into a heap number past 2^30 steps and allocate on every match. */
const counter = new Float64Array(1);

/**
 * Work done by the segment matchers so far, for tests that prove them linear:
 * an upper bound, counted per attempt of a segment at a position as the
 * segment's length plus its set members (a search counts every position it
 * may have passed). Internal; not exported from the package.
 */
export function globMatchSteps(): number {
  return counter[0];
}

/**
 * The glob between two stars (or a star and an end): a fixed number of code
 * points. Plain text is compared natively (startsWith, indexOf); any other
 * segment with a RegExp of that segment alone, which has no quantifier (one
 * literal, `.` or class per code point) and so cannot backtrack: one attempt
 * at one position costs at most `width` steps, and a search from a position
 * tries each later position once.
 */
class Segment {
  /** Code points the segment consumes (also the fewest code units). */
  readonly width: number;
  /** An upper bound of the steps of one attempt at one position. */
  readonly cost: number;
  /**
   * The segment as text compared code unit by code unit, or null: it has a
   * `?` or a set, or a lone surrogate at an end (which must not match half
   * of a pair of the name: the RegExp's `u` flag sees to that).
   */
  readonly text: string | null;
  /** Sticky (`y`): a match at lastIndex only. */
  private readonly here: RegExp;
  /** Global (`g`): the leftmost match from lastIndex on. */
  private readonly later: RegExp;

  constructor(tokens: readonly GlobToken[]) {
    let source = '';
    let text = '';
    let plain = true;
    let cost = 1;
    for (const token of tokens) {
      if (typeof token === 'string') {
        source += escapeChar(token);
        text += token;
        cost += 1;
      } else if (token === ANY) {
        source += '.';
        plain = false;
        cost += 1;
      } else {
        source += setSource(token as GlobSet);
        plain = false;
        cost += 1 + (token as GlobSet).items.length;
      }
    }
    const loneAtEnds =
      isLowSurrogate(text.charCodeAt(0)) || isHighSurrogate(text.charCodeAt(text.length - 1));
    this.width = tokens.length;
    this.cost = cost;
    this.text = plain && !loneAtEnds ? text : null;
    // A set whose every range was dropped (`[z-a]`) is `(?!)`: the segment never matches.
    this.here = new RegExp(source, 'suy');
    this.later = new RegExp(source, 'sug');
  }

  /** The segment matched at `at` (a code-point boundary), ending by `end`: where it ends, or -1. */
  matchAt(name: string, at: number, end: number): number {
    counter[0] += this.cost;
    const { text } = this;
    if (text !== null) {
      return at + text.length <= end && name.startsWith(text, at) ? at + text.length : -1;
    }
    this.here.lastIndex = at;
    if (!this.here.test(name)) return -1;
    return this.here.lastIndex <= end ? this.here.lastIndex : -1;
  }

  /** The leftmost match starting at `from` or later and ending by `end`: where it ends, or -1. */
  findFrom(name: string, from: number, end: number): number {
    const { text } = this;
    if (text !== null) {
      const hit = name.indexOf(text, from);
      // Counted as a naive search costs: every start scanned, times one attempt.
      counter[0] += ((hit < 0 ? end : Math.min(hit, end)) - from + 1) * this.cost;
      return hit >= 0 && hit + text.length <= end ? hit + text.length : -1;
    }
    this.later.lastIndex = from;
    const found = this.later.test(name);
    const after = found ? this.later.lastIndex : name.length;
    counter[0] += (after - from + 1) * this.cost;
    return found && after <= end ? after : -1;
  }
}

/** The matcher of a glob with at least one star (so at least two segments, maybe empty). */
export function segmentMatcher(tokens: GlobToken[]): (name: string) => boolean {
  const segments: Segment[] = [];
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    if (i < tokens.length && tokens[i] !== STAR) continue;
    segments.push(new Segment(tokens.slice(start, i)));
    start = i + 1;
  }
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(1, -1);
  const prefix = first.text;
  const suffix = last.text;
  if (prefix !== null && suffix !== null) {
    // `payments.*.refund`, `*.*.delete`: plain texts at both ends, compared natively.
    const least = prefix.length + suffix.length;
    if (middle.length === 0) {
      return (name) => {
        counter[0] += least + 1;
        return name.length >= least && name.startsWith(prefix) && name.endsWith(suffix);
      };
    }
    return (name) => {
      counter[0] += least + 1;
      if (name.length < least || !name.startsWith(prefix) || !name.endsWith(suffix)) return false;
      return matchMiddle(middle, name, prefix.length, name.length - suffix.length);
    };
  }
  if (middle.length === 0 && last.width === 0) {
    // `svc1?.delete*`, `svc[0-4]7.*`: the first segment at the start, and anything after.
    return (name) => first.matchAt(name, 0, name.length) >= 0;
  }
  return (name) => {
    const pos = first.width === 0 ? 0 : first.matchAt(name, 0, name.length);
    if (pos < 0) return false;
    const end = lastStart(last, name, pos);
    return end >= 0 && (middle.length === 0 || matchMiddle(middle, name, pos, end));
  };
}

/**
 * Where the last segment starts if it ends the name and starts at `from` or
 * later, else -1. It has a fixed width in code points, so it starts that many
 * back from the end.
 */
function lastStart(last: Segment, name: string, from: number): number {
  const { text } = last;
  if (text !== null) {
    counter[0] += last.cost;
    const start = name.length - text.length;
    return start >= from && name.endsWith(text) ? start : -1;
  }
  let start = name.length;
  for (let k = last.width; k > 0; k--) {
    if (start <= from) return -1;
    start -= isPairEndingAt(name, start) ? 2 : 1;
  }
  return last.matchAt(name, start, name.length) === name.length ? start : -1;
}

/**
 * Each middle segment at its leftmost match in [from, end), in order. Taking
 * the leftmost is always safe (a later match of a fixed-width segment ends
 * later and leaves the rest less room), so no segment is ever tried again.
 */
function matchMiddle(middle: readonly Segment[], name: string, from: number, end: number): boolean {
  let pos = from;
  for (let i = 0; i < middle.length; i++) {
    pos = middle[i].findFrom(name, pos, end);
    if (pos < 0) return false;
  }
  return true;
}

/** True when the two code units before `end` are one surrogate pair. */
function isPairEndingAt(name: string, end: number): boolean {
  return isLowSurrogate(name.charCodeAt(end - 1)) && isHighSurrogate(name.charCodeAt(end - 2));
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
