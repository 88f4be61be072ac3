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
 */
export function findDuplicateKey(text: string): Array<string | number> | null {
  // A text without two keys in any object cannot have a duplicate.
  if (text.indexOf(':') === text.lastIndexOf(':')) return null;
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
