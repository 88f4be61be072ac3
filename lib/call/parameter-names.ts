/**
 * One declared parameter of a function, as its source spells it. `name` is
 * null when the parameter has no single name (a destructuring pattern such
 * as `{ a, b }` or `[x, y]`): the audit then calls it `arg<i>`.
 */
export interface ParameterSpec {
  readonly name: string | null;
  /** `...rest`: collects every argument from its position on. */
  readonly rest: boolean;
}

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/u;
const IDENTIFIER_CHAR = /[\p{ID_Continue}$\u200c\u200d]/u;

// After these words a `/` starts a regular expression, not a division.
const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Reads the declared parameters of a function from its own source
 * (`Function.prototype.toString`), as the Python SDK reads a signature. The
 * scan understands what may sit inside a parameter list, so that a comma or a
 * parenthesis there never splits a parameter: default values with strings,
 * template literals, regular expressions, arrow functions, object and array
 * literals; comments; destructuring; rest parameters. It accepts every shape
 * `toString` returns: function declarations and expressions, arrow functions,
 * (async, generator, computed-name) methods, and the output of tsc and swc.
 *
 * Returns null when there is no parameter list to read (a native or bound
 * function: `function () { [native code] }` has one, but it says nothing).
 */
export function parseParameterNames(fn: Function): ParameterSpec[] | null {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return null;
  }
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) return null;
  return parseParameterSource(source);
}

/** The same, from source text. Exported for tests and for tools that hold source rather than functions. */
export function parseParameterSource(source: string): ParameterSpec[] | null {
  const scanner = new Scanner(source);
  const list = scanner.findParameterList();
  if (list === null) return null;
  if (typeof list === 'string') return [{ name: list, rest: false }];
  return list.map(toSpec).filter((spec): spec is ParameterSpec => spec !== null);
}

function toSpec(raw: string): ParameterSpec | null {
  let text = raw.trim();
  if (text === '') return null; // a trailing comma
  let rest = false;
  if (text.startsWith('...')) {
    rest = true;
    text = text.slice(3).trimStart();
  }
  if (text.startsWith('{') || text.startsWith('[')) return { name: null, rest };
  const match = IDENTIFIER.exec(text);
  return { name: match ? match[0] : null, rest };
}

type Last = 'value' | 'operator';

/**
 * A small JavaScript lexer: just enough to skip strings, templates, regular
 * expressions and comments, and to track bracket depth.
 */
class Scanner {
  private pos = 0;
  // Whether the last significant token ends an expression: decides what `/` means.
  private last: Last = 'operator';
  private lastWord = '';

  constructor(private readonly src: string) {}

  /**
   * Moves to the parameter list and returns its raw parameters (comments
   * blanked out), or the single identifier of a parenthesis-free arrow
   * (`x => ...`), or null when no list is found.
   */
  findParameterList(): string[] | string | null {
    const src = this.src;
    let depth = 0;
    let lastIdentifier: string | null = null;
    while (this.pos < src.length) {
      if (this.skipTrivia()) continue;
      const ch = src[this.pos];
      if (depth === 0 && ch === '(') {
        this.pos++;
        return this.readList();
      }
      if (depth === 0 && ch === '=' && src[this.pos + 1] === '>') {
        return lastIdentifier;
      }
      if (depth === 0 && ch === '{') return null; // a body (or a class) before any list
      if (ch === '[' || ch === '{' || ch === '(') {
        depth++;
        this.pos++;
        this.last = 'operator';
        continue;
      }
      if (ch === ']' || ch === '}' || ch === ')') {
        depth = Math.max(0, depth - 1);
        this.pos++;
        this.last = 'value';
        continue;
      }
      const word = this.readWordOrToken();
      if (depth === 0) lastIdentifier = word !== null && IDENTIFIER.test(word) ? word : null;
    }
    return null;
  }

  /** After `(`: the raw text of each top-level parameter, up to the matching `)`. */
  private readList(): string[] {
    const src = this.src;
    const parts: string[] = [];
    let current = '';
    let depth = 0;
    this.last = 'operator';
    while (this.pos < src.length) {
      const start = this.pos;
      if (this.skipTrivia()) {
        current += ' ';
        continue;
      }
      const ch = src[this.pos];
      if (depth === 0 && ch === ')') {
        parts.push(current);
        return parts;
      }
      if (depth === 0 && ch === ',') {
        parts.push(current);
        current = '';
        this.pos++;
        this.last = 'operator';
        continue;
      }
      depth = this.step(ch, depth);
      current += src.slice(start, this.pos);
    }
    // Unbalanced source: better no names than wrong ones.
    parts.push(current);
    return parts;
  }

  /** Skips whitespace and comments; true when it moved. */
  private skipTrivia(): boolean {
    const src = this.src;
    const start = this.pos;
    for (;;) {
      const ch = src[this.pos];
      if (ch === undefined) break;
      if (/\s/.test(ch)) {
        this.pos++;
      } else if (ch === '/' && src[this.pos + 1] === '/') {
        const end = src.indexOf('\n', this.pos);
        this.pos = end === -1 ? src.length : end + 1;
      } else if (ch === '/' && src[this.pos + 1] === '*') {
        const end = src.indexOf('*/', this.pos + 2);
        this.pos = end === -1 ? src.length : end + 2;
      } else {
        break;
      }
    }
    return this.pos > start;
  }

  /** Consumes one token that is not a bracket; returns it when it is a word or punctuation run. */
  /** One token inside a parameter: brackets move the nesting depth, anything else is read whole. */
  private step(ch: string, depth: number): number {
    if (ch === '(' || ch === '[' || ch === '{') {
      this.pos++;
      this.last = 'operator';
      return depth + 1;
    }
    if (ch === ')' || ch === ']' || ch === '}') {
      this.pos++;
      this.last = 'value';
      return depth - 1;
    }
    this.readWordOrToken();
    return depth;
  }

  private readWordOrToken(): string | null {
    const src = this.src;
    const ch = src[this.pos];
    if (ch === '"' || ch === "'") {
      this.skipString(ch);
      this.last = 'value';
      return null;
    }
    if (ch === '`') {
      this.skipTemplate();
      this.last = 'value';
      return null;
    }
    if (ch === '/') {
      if (this.last === 'operator') {
        this.skipRegex();
        this.last = 'value';
        return null;
      }
      this.pos++;
      this.last = 'operator';
      return '/';
    }
    if (IDENTIFIER_CHAR.test(ch) || ch === '#' || ch === '\\') {
      const start = this.pos;
      this.pos++;
      while (
        this.pos < src.length &&
        (IDENTIFIER_CHAR.test(src[this.pos]) || src[this.pos] === '\\')
      ) {
        this.pos++;
      }
      // A number such as 1.5 or 1e-3 keeps going through `.` and an exponent sign.
      const word = src.slice(start, this.pos);
      this.lastWord = word;
      this.last = KEYWORDS_BEFORE_EXPRESSION.has(word) ? 'operator' : 'value';
      return word;
    }
    this.pos++;
    // `x++ / 2` and `x-- / 2` are divisions; everything else punctuation-like expects an operand.
    if ((ch === '+' || ch === '-') && src[this.pos] === ch && this.last === 'value') {
      this.pos++;
      return ch + ch;
    }
    if (ch === '.' && this.last === 'value' && /^\d/.test(this.lastWord)) return ch;
    this.last = 'operator';
    return ch;
  }

  private skipString(quote: string): void {
    const src = this.src;
    this.pos++;
    while (this.pos < src.length) {
      const ch = src[this.pos];
      if (ch === '\\') {
        this.pos += 2;
      } else if (ch === quote) {
        this.pos++;
        return;
      } else {
        this.pos++;
      }
    }
  }

  /** Skips a template literal, with nested `${ ... }` (which may hold templates of their own). */
  private skipTemplate(): void {
    const src = this.src;
    this.pos++;
    while (this.pos < src.length) {
      const ch = src[this.pos];
      if (ch === '\\') {
        this.pos += 2;
      } else if (ch === '`') {
        this.pos++;
        return;
      } else if (ch === '$' && src[this.pos + 1] === '{') {
        this.pos += 2;
        this.skipBalanced('}');
      } else {
        this.pos++;
      }
    }
  }

  /** Skips code up to and including the `close` bracket that balances what came before. */
  private skipBalanced(close: string): void {
    const src = this.src;
    let depth = 0;
    this.last = 'operator';
    while (this.pos < src.length) {
      if (this.skipTrivia()) continue;
      const ch = src[this.pos];
      if (depth === 0 && ch === close) {
        this.pos++;
        return;
      }
      depth = this.step(ch, depth);
    }
  }

  private skipRegex(): void {
    const src = this.src;
    this.pos++;
    let inClass = false;
    while (this.pos < src.length) {
      const ch = src[this.pos];
      if (ch === '\\') {
        this.pos += 2;
        continue;
      }
      this.pos++;
      if (ch === '\n') return; // not a regex after all; stop at the line end
      if (inClass) {
        if (ch === ']') inClass = false;
      } else if (ch === '[') {
        inClass = true;
      } else if (ch === '/') {
        while (this.pos < src.length && IDENTIFIER_CHAR.test(src[this.pos])) this.pos++;
        return;
      }
    }
  }
}
