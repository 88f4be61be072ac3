/**
 * Python's `fnmatch.fnmatchcase` in TypeScript: the glob syntax of policy
 * `action` fields (docs/policy.md, "Action globs"). The translation follows CPython's
 * `fnmatch.translate` step by step, including its corner cases:
 * - `*` matches any run of characters, dots and the empty run included;
 * - `?` matches exactly one character (one code point: an emoji is one);
 * - `[abc]`, `[a-z]`, `[!abc]`; a `]` right after `[` or `[!` is a member;
 *   `-` first or last in a set is a member; a range whose start is above its
 *   end is dropped (`[z-a]` matches nothing, `[!z-a]` any one character);
 * - a `[` with no closing `]` is a literal `[`;
 * - everything else, backslash included, is literal (no escapes in fnmatch);
 * - case-sensitive, and the whole name must match.
 * Sets are emitted with every member escaped as a code point, so the
 * characters that are special in a JS character class (`]`, `\`, `^`, `-`)
 * never change meaning.
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

/**
 * The regular-expression source (for the flags `su`) equivalent to the glob,
 * anchored at both ends.
 */
export function translateGlob(pattern: string): string {
  const chars = Array.from(pattern);
  const n = chars.length;
  let out = '';
  let i = 0;
  while (i < n) {
    const c = chars[i++];
    if (c === '*') {
      // Runs of stars mean the same as one; collapsing them keeps the regex linear.
      while (i < n && chars[i] === '*') i++;
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && chars[j] === '!') j++;
      if (j < n && chars[j] === ']') j++;
      while (j < n && chars[j] !== ']') j++;
      if (j >= n) {
        out += escapeChar('[');
      } else {
        out += translateSet(chars.slice(i, j));
        i = j + 1;
      }
    } else {
      out += escapeChar(c);
    }
  }
  return `^(?:${out})$`;
}

/** A RegExp equivalent to the glob (whole-string, case-sensitive, `.` spans newlines). */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(translateGlob(pattern), 'su');
}

/**
 * Compiles the glob once into the cheapest matcher that is exact: equality
 * for a literal, a constant for a catch-all, prefix/suffix tests for
 * `literal*` and `*literal`, else a RegExp.
 */
export function compileGlob(pattern: string): GlobMatcher {
  if (isLiteralGlob(pattern)) return (name) => name === pattern;
  if (isCatchAllGlob(pattern)) return () => true;
  const trailing = /^([^*?[]+)\*+$/.exec(pattern);
  if (trailing) {
    const prefix = trailing[1];
    return (name) => name.startsWith(prefix);
  }
  const leading = /^\*+([^*?[]+)$/.exec(pattern);
  if (leading) {
    const suffix = leading[1];
    return (name) => name.endsWith(suffix);
  }
  const regex = globToRegExp(pattern);
  return (name) => regex.test(name);
}

/** `fnmatch.fnmatchcase(name, pattern)`. Compiles on every call: compile once with compileGlob for repeated use. */
export function fnmatch(name: string, pattern: string): boolean {
  return compileGlob(pattern)(name);
}

/** The body of a `[...]` set (between the brackets), as CPython's translate builds it. */
function translateSet(body: string[]): string {
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

  let members = '';
  for (let m = 0; m < chunks.length; m++) {
    const chunk = chunks[m];
    const next = chunks[m + 1];
    for (let p = 0; p < chunk.length; p++) {
      const isRangeStart = p === chunk.length - 1 && next !== undefined && next.length > 0;
      members += escapeChar(chunk[p]);
      if (isRangeStart) members += '-';
    }
    if (next !== undefined && (chunk.length === 0 || next.length === 0)) members += escapeChar('-');
  }

  if (members === '') return negate ? '.' : '(?!)';
  return negate ? `[^${members}]` : `[${members}]`;
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
