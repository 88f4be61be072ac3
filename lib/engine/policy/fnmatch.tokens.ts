/**
 * The glob syntax of fnmatch.ts as tokens: one per code point, a star, `?`,
 * or a `[...]` set split into members as CPython's `fnmatch.translate` does,
 * and the RegExp source of a set or a character. Used when a glob is compiled,
 * never while a name is matched.
 */

const WORD_CHAR = /^[A-Za-z0-9_]$/;

export const STAR = Symbol('*');
export const ANY = Symbol('?');
/** In a set's member list: the hyphen of a range (a literal `-` member is the string '-'). */
const RANGE = Symbol('-');

export interface GlobSet {
  negate: boolean;
  /** The class members as CPython emits them: characters, and RANGE between a range's ends. */
  items: Array<string | typeof RANGE>;
}

export type GlobToken = string | typeof STAR | typeof ANY | GlobSet;

/** The glob as tokens; runs of stars become one STAR, and a `[` with no closing `]` is a literal `[`. */
export function parseGlob(pattern: string): GlobToken[] {
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
export function setSource(set: GlobSet): string {
  let members = '';
  for (const item of set.items) members += item === RANGE ? '-' : escapeChar(item);
  if (members === '') return set.negate ? '.' : '(?!)';
  return set.negate ? `[^${members}]` : `[${members}]`;
}

function indexOfFrom(chars: string[], wanted: string, from: number): number {
  for (let i = from; i < chars.length; i++) if (chars[i] === wanted) return i;
  return -1;
}

function codePoint(char: string): number {
  return char.codePointAt(0) ?? 0;
}

/** One character as RegExp source for the flags `su`: a word character as is, any other as its `\\u{...}` escape. */
export function escapeChar(char: string): string {
  return WORD_CHAR.test(char) ? char : `\\u{${codePoint(char).toString(16)}}`;
}
