/**
 * The path of the first key that appears twice in one object of a JSON text
 * (`['parameters', 'items', 1, 'id']`), or null when there is none.
 *
 * JSON.parse keeps the last of two equal keys; a proxy, a log reader or
 * another parser may keep the first, so a body with a duplicate key may mean
 * one thing to them and another to us. Run on a text JSON.parse accepted: it
 * is a lexical pass (strings, brackets, commas and colons, found by one
 * regular expression), not a second parse, and builds no values. Keys are
 * compared as JSON.parse reads them (`"a"` and `"\u0061"` are the same key).
 *
 * Given `parsed` (what JSON.parse made of `text`), a text without a duplicate
 * is cleared by counting: JSON.parse keeps one key of each set of equal keys
 * of an object, so the text has a duplicate exactly when it has more keys
 * (colons outside strings) than the parsed value has own keys. Only a text
 * that fails the count is scanned for where its duplicate is.
 */
export function findDuplicateKey(text: string, parsed?: unknown): Array<string | number> | null {
  // A text without two keys in any object cannot have a duplicate.
  if (text.indexOf(':') === text.lastIndexOf(':')) return null;
  if (parsed !== undefined && keysInText(text) === keysInValue(parsed)) return null;
  const stack: Frame[] = [];
  TOKENS.lastIndex = 0;
  for (let match = TOKENS.exec(text); match !== null; match = TOKENS.exec(text)) {
    const token = match[0];
    const top = stack[stack.length - 1];
    switch (token) {
      case '{':
        stack.push({ keys: new Set(), key: null, expectKey: true, index: -1 });
        break;
      case '[':
        stack.push({ keys: null, key: null, expectKey: false, index: 0 });
        break;
      case '}':
      case ']':
        stack.pop();
        break;
      case ',':
        if (top.keys !== null) top.expectKey = true;
        else top.index++;
        break;
      case ':':
        top.expectKey = false;
        break;
      default: {
        // A string: a key where one is expected, else a value.
        if (top === undefined || top.keys === null || !top.expectKey) break;
        const key = token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
        if (top.keys.has(key)) return [...pathOf(stack.slice(0, -1)), key];
        top.keys.add(key);
        top.key = key;
      }
    }
  }
  return null;
}

interface Frame {
  /** The keys seen so far, for an object; null for an array. */
  keys: Set<string> | null;
  /** The object's current key. */
  key: string | null;
  expectKey: boolean;
  /** The array's current index. */
  index: number;
}

/** A JSON string (the unrolled form: linear, no backtracking), or one structural character. */
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\],:]/g;

function pathOf(frames: readonly Frame[]): Array<string | number> {
  return frames.map((frame) => (frame.keys === null ? frame.index : (frame.key as string)));
}

/** The keys of a JSON text: its colons outside strings (linear: each character is read once). */
function keysInText(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === COLON) count++;
    else if (unit === QUOTE) i = closingQuote(text, i + 1);
  }
  return count;
}

/** The index of the `"` that closes the string whose text starts at `from`. */
function closingQuote(text: string, from: number): number {
  for (let quote = text.indexOf('"', from); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return text.length;
}

/** The own keys of every object in a parsed JSON value (a loop, not recursion: any depth JSON.parse takes). */
function keysInValue(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item !== 'object' || item === null) continue;
    if (Array.isArray(item)) {
      for (const element of item) if (typeof element === 'object') pending.push(element);
      continue;
    }
    for (const key of Object.keys(item)) {
      count++;
      const child = (item as Record<string, unknown>)[key];
      if (typeof child === 'object') pending.push(child);
    }
  }
  return count;
}

const COLON = 0x3a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
