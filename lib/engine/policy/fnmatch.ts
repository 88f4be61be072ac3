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

/** A compiled glob: true when the whole name matches. */
export type GlobMatcher = (name: string) => boolean;

const WORD_CHAR = /^[A-Za-z0-9_]$/;

/** True when the pattern has no glob syntax, so it matches exactly one name: itself. */
export function isLiteralGlob(pattern: string): boolean {
  return !/[*?[]/.test(pattern);
}

/** True when the pattern is only stars, so it matches every name. */
export function isCatchAllGlob(pattern: string): boolean {
  return /^\*+$/.test(pattern);
}

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

// ---------------------------------------------------------------------------
// Parsing: the glob as tokens (one code point each, a star, `?`, or a set).

const STAR = Symbol('*');
const ANY = Symbol('?');
/** In a set's member list: the hyphen of a range (a literal `-` member is the string '-'). */
const RANGE = Symbol('-');

interface GlobSet {
  negate: boolean;
  /** The class members as CPython emits them: characters, and RANGE between a range's ends. */
  items: Array<string | typeof RANGE>;
}

type GlobToken = string | typeof STAR | typeof ANY | GlobSet;

function parseGlob(pattern: string): GlobToken[] {
  const chars = Array.from(pattern);
  const n = chars.length;
  const tokens: GlobToken[] = [];
  let i = 0;
  while (i < n) {
    const c = chars[i++];
    if (c === '*') {
      // Runs of stars mean the same as one.
      while (i < n && chars[i] === '*') i++;
      tokens.push(STAR);
    } else if (c === '?') {
      tokens.push(ANY);
    } else if (c === '[') {
      let j = i;
      if (j < n && chars[j] === '!') j++;
      if (j < n && chars[j] === ']') j++;
      while (j < n && chars[j] !== ']') j++;
      if (j >= n) {
        tokens.push('[');
      } else {
        tokens.push(parseSet(chars.slice(i, j)));
        i = j + 1;
      }
    } else {
      tokens.push(c);
    }
  }
  return tokens;
}

/** The body of a `[...]` set (between the brackets), split into members as CPython's translate does. */
function parseSet(body: string[]): GlobSet {
  let negate = false;
  let content = body;
  if (content[0] === '!') {
    negate = true;
    content = content.slice(1);
  }
  // CPython splits the set at the hyphens that form ranges: never the first
  // member, and never the character right after a range's end.
  let chunks: string[][];
  if (!content.includes('-')) {
    chunks = [content];
  } else {
    chunks = [];
    let start = 0;
    let k = 1;
    for (;;) {
      k = indexOfFrom(content, '-', k);
      if (k < 0) break;
      chunks.push(content.slice(start, k));
      start = k + 1;
      k += 3;
    }
    const rest = content.slice(start);
    if (rest.length > 0) chunks.push(rest);
    else chunks[chunks.length - 1].push('-');
    // A range whose start is above its end matches nothing: drop it (both ends go).
    for (let m = chunks.length - 1; m > 0; m--) {
      const left = chunks[m - 1];
      const right = chunks[m];
      if (
        left.length > 0 &&
        right.length > 0 &&
        codePoint(left[left.length - 1]) > codePoint(right[0])
      ) {
        chunks[m - 1] = [...left.slice(0, -1), ...right.slice(1)];
        chunks.splice(m, 1);
      }
    }
  }

  const items: GlobSet['items'] = [];
  for (let m = 0; m < chunks.length; m++) {
    const chunk = chunks[m];
    const next = chunks[m + 1];
    for (let p = 0; p < chunk.length; p++) {
      items.push(chunk[p]);
      if (p === chunk.length - 1 && next !== undefined && next.length > 0) items.push(RANGE);
    }
    if (next !== undefined && (chunk.length === 0 || next.length === 0)) items.push('-');
  }
  return { negate, items };
}

/** The set as a RegExp class (members escaped as code points, so `]`, `\`, `^`, `-` never change meaning). */
function setSource(set: GlobSet): string {
  let members = '';
  for (const item of set.items) members += item === RANGE ? '-' : escapeChar(item);
  if (members === '') return set.negate ? '.' : '(?!)';
  return set.negate ? `[^${members}]` : `[${members}]`;
}

// ---------------------------------------------------------------------------
// Matching: segments of fixed width between the stars.

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
function segmentMatcher(tokens: GlobToken[]): GlobMatcher {
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

function indexOfFrom(chars: string[], wanted: string, from: number): number {
  for (let i = from; i < chars.length; i++) if (chars[i] === wanted) return i;
  return -1;
}

function codePoint(char: string): number {
  return char.codePointAt(0) ?? 0;
}

function escapeChar(char: string): string {
  return WORD_CHAR.test(char) ? char : `\\u{${codePoint(char).toString(16)}}`;
}
