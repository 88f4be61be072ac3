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
 * it already passed, and a name of n code units costs at most n attempts per
 * segment, n·|glob| steps in all (usually about n). CPython's `fnmatch.translate`
 * RegExp (`translateGlob`) backtracks on its `.*`: `*a*a*a*a*a*a*a*a*a*b`
 * against 36 `a` took seconds. It is kept as the reference the matcher is
 * tested against, and used only for globs without a star, where it has no
 * quantifier to backtrack on.
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
 * one step per piece compared, per code unit of literal text compared and per
 * set range tested (an upper bound, counted per attempt). Internal; not
 * exported from the package.
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

/**
 * The set's members as inclusive code-point ranges `[lo0, hi0, lo1, hi1, …]`,
 * read the way a RegExp class reads setSource: `x RANGE y` is a range, and a
 * RANGE with no end after it is a `-` member. A range out of order is the
 * SyntaxError the RegExp would throw.
 */
function setRanges(set: GlobSet): number[] {
  const { items } = set;
  const point = (item: string | typeof RANGE): number => (item === RANGE ? 0x2d : codePoint(item));
  const ranges: number[] = [];
  let i = 0;
  while (i < items.length) {
    const lo = point(items[i]);
    if (items[i + 1] === RANGE && i + 2 < items.length) {
      const hi = point(items[i + 2]);
      if (lo > hi)
        throw new SyntaxError(`Range out of order in character class: ${setSource(set)}`);
      ranges.push(lo, hi);
      i += 3;
    } else {
      ranges.push(lo, lo);
      i += 1;
    }
  }
  return ranges;
}

// ---------------------------------------------------------------------------
// Matching: segments of fixed width between the stars.

const TEXT = 0;
const ONE = 1;
const SET = 2;

/** One piece of a segment: literal text (UTF-16), or one code point (`?`, a set). One shape for all kinds. */
class Piece {
  constructor(
    readonly kind: typeof TEXT | typeof ONE | typeof SET,
    readonly text: string,
    /** The text starts with a low surrogate / ends with a high one (lone in the glob). */
    readonly startsLow: boolean,
    readonly endsHigh: boolean,
    readonly negate: boolean,
    /** A set's members as inclusive code-point ranges `[lo0, hi0, lo1, hi1, …]`. */
    readonly ranges: readonly number[],
  ) {}
}

function textPiece(text: string): Piece {
  const startsLow = isLowSurrogate(text.charCodeAt(0));
  const endsHigh = isHighSurrogate(text.charCodeAt(text.length - 1));
  return new Piece(TEXT, text, startsLow, endsHigh, false, []);
}

class Segment {
  /** Code points the segment consumes; also the fewest code units it can. */
  readonly width: number;
  /** An upper bound of the steps one attempt at one position costs. */
  readonly cost: number;
  /** The segment is one literal text that can be compared as plain code units. */
  readonly plainText: string | null;
  /** The segment is one literal text (searched with indexOf). */
  readonly onlyText: Piece | null;

  constructor(
    readonly pieces: readonly Piece[],
    width: number,
  ) {
    this.width = width;
    let cost = 1;
    for (const piece of pieces) cost += 1 + piece.text.length + piece.ranges.length / 2;
    this.cost = cost;
    this.onlyText = pieces.length === 1 && pieces[0].kind === TEXT ? pieces[0] : null;
    const plain = this.onlyText !== null && !this.onlyText.startsLow && !this.onlyText.endsHigh;
    this.plainText = pieces.length === 0 ? '' : plain ? this.onlyText!.text : null;
  }
}

function segmentsOf(tokens: GlobToken[]): Segment[] | null {
  const segments: Segment[] = [];
  let pieces: Piece[] = [];
  let width = 0;
  let text = '';
  let never = false;
  const flushText = (): void => {
    if (text !== '') pieces.push(textPiece(text));
    text = '';
  };
  const flushSegment = (): void => {
    flushText();
    segments.push(new Segment(pieces, width));
    pieces = [];
    width = 0;
  };
  for (const token of tokens) {
    if (token === STAR) {
      flushSegment();
      continue;
    }
    width++;
    if (typeof token === 'string') {
      text += token;
      continue;
    }
    flushText();
    const ranges = token === ANY ? [] : setRanges(token);
    if (token === ANY || (ranges.length === 0 && token.negate)) {
      // `[!z-a]` (every range dropped) is any one character, like `?`.
      pieces.push(new Piece(ONE, '', false, false, false, []));
    } else if (ranges.length === 0) {
      // `[z-a]` matches nothing, so neither does the glob.
      never = true;
    } else {
      pieces.push(new Piece(SET, '', false, false, token.negate, ranges));
    }
  }
  flushSegment();
  return never ? null : segments;
}

/** The matcher of a glob with at least one star (so at least two segments). */
function segmentMatcher(tokens: GlobToken[]): GlobMatcher {
  const segments = segmentsOf(tokens);
  if (segments === null) return () => false;
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(1, -1);
  const prefix = first.plainText;
  const suffix = last.plainText;
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
  return (name) => {
    const pos = matchAt(first, name, 0, name.length);
    if (pos < 0) return false;
    // The last segment has a fixed width in code points: it starts that many back from the end.
    let end = name.length;
    for (let k = last.width; k > 0; k--) {
      if (end <= pos) return false;
      end -= isPairEndingAt(name, end) ? 2 : 1;
    }
    if (matchAt(last, name, end, name.length) !== name.length) return false;
    return matchMiddle(middle, name, pos, end);
  };
}

/** Each middle segment at its leftmost match in [from, end), in order. */
function matchMiddle(middle: readonly Segment[], name: string, from: number, end: number): boolean {
  let pos = from;
  for (let i = 0; i < middle.length; i++) {
    const segment = middle[i];
    const found =
      segment.onlyText !== null
        ? findText(segment.onlyText, name, pos, end)
        : findAt(segment, name, pos, end);
    if (found < 0) return false;
    pos = found;
  }
  return true;
}

/** Leftmost match of a literal segment in [from, end): where it ends, or -1. */
function findText(piece: Piece, name: string, from: number, end: number): number {
  const { text } = piece;
  let at = from;
  for (;;) {
    const hit = name.indexOf(text, at);
    // Counted as a naive search would cost: every start scanned, times the text's length.
    counter[0] += ((hit < 0 ? end : Math.min(hit, end)) - at + 1) * text.length;
    if (hit < 0 || hit + text.length > end) return -1;
    const after = hit + text.length;
    // A lone surrogate of the glob never matches half of a surrogate pair of the name.
    const splitsStart = piece.startsLow && hit > 0 && isHighSurrogate(name.charCodeAt(hit - 1));
    const splitsEnd = piece.endsHigh && isLowSurrogate(name.charCodeAt(after));
    if (!splitsStart && !splitsEnd) return after;
    at = hit + 1;
  }
}

/** Leftmost match of a segment starting in [from, end): where it ends, or -1. */
function findAt(segment: Segment, name: string, from: number, end: number): number {
  for (let at = from; at + segment.width <= end; at += codeUnitsAt(name, at)) {
    const after = matchAt(segment, name, at, end);
    if (after >= 0) return after;
  }
  return -1;
}

/** The segment matched at `at` (a code-point boundary), not past `end`: where it ends, or -1. */
function matchAt(segment: Segment, name: string, at: number, end: number): number {
  counter[0] += segment.cost;
  const { pieces } = segment;
  let p = at;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (piece.kind === TEXT) {
      const { text } = piece;
      if (p + text.length > end || !name.startsWith(text, p)) return -1;
      p += text.length;
      if (piece.endsHigh && isLowSurrogate(name.charCodeAt(p))) return -1;
      continue;
    }
    if (p >= end) return -1;
    const cp = name.codePointAt(p) as number;
    p += cp > 0xffff ? 2 : 1;
    if (piece.kind === SET && inRanges(piece.ranges, cp) === piece.negate) return -1;
  }
  return p;
}

function inRanges(ranges: readonly number[], cp: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (cp >= ranges[i] && cp <= ranges[i + 1]) return true;
  }
  return false;
}

/** 2 for a surrogate pair at `at`, else 1. */
function codeUnitsAt(name: string, at: number): number {
  return isHighSurrogate(name.charCodeAt(at)) && isLowSurrogate(name.charCodeAt(at + 1)) ? 2 : 1;
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
