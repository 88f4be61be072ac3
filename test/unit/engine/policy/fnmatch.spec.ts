import {
  compileGlob,
  fnmatch,
  globToRegExp,
  isCatchAllGlob,
  isLiteralGlob,
} from '../../../../lib/engine/policy/fnmatch';

// Expected answers follow CPython's documented fnmatch.fnmatchcase / translate
// rules (worked out by hand from its algorithm, and cross-checked once against
// CPython 3.11 while writing this table).
type Row = [pattern: string, name: string, matches: boolean];

const table: Record<string, Row[]> = {
  'star: any run, dots and empty included': [
    ['*', '', true],
    ['*', 'payments.initiate', true],
    ['payments.*', 'payments.initiate', true],
    ['payments.*', 'payments.', true],
    ['payments.*', 'payments', false],
    ['payments.*', 'payments.a.b.c', true],
    ['*.delete', 'user.delete', true],
    ['*.delete', 'a.b.delete', true],
    ['*.delete', 'delete', false],
    ['data.*.write', 'data.x.write', true],
    ['data.*.write', 'data..write', true],
    ['data.*.write', 'data.write', false],
    ['a**b', 'ab', true],
    ['a**b', 'aXYZb', true],
    ['**', '', true],
    ['*', 'a\nb', true],
  ],
  'question mark: exactly one character (one code point)': [
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['a?c', 'abc', true],
    ['a?c', 'a.c', true],
    ['a?c', 'ac', false],
    ['??', 'ab', true],
    ['?', '😀', true],
    ['??', '😀', false],
    ['é?', 'éa', true],
    ['?', '\n', true],
  ],
  'sets and ranges': [
    ['[abc]', 'a', true],
    ['[abc]', 'c', true],
    ['[abc]', 'd', false],
    ['[abc]', '', false],
    ['[abc]', 'ab', false],
    ['[!abc]', 'd', true],
    ['[!abc]', 'a', false],
    ['[!abc]', '', false],
    ['[a-c]', 'b', true],
    ['[a-c]', 'd', false],
    ['[!a-c]', 'd', true],
    ['[!a-c]', 'b', false],
    ['[a-c]x[!y]', 'bxz', true],
    ['[a-c]x[!y]', 'bxy', false],
    ['[%-/]', '.', true],
    ['[%-/]', '/', true],
    ['[%-/]', '0', false],
    ['[😀-😂]', '😁', true],
    ['[😀-😂]', '😃', false],
    ['[!😀]', '😀', false],
    ['[!😀]', '😁', true],
  ],
  'a ] right after [ or [! is a member': [
    ['[]]', ']', true],
    ['[]]', 'a', false],
    ['[]a]', 'a', true],
    ['[]a]', ']', true],
    ['[!]]', ']', false],
    ['[!]]', 'a', true],
    ['[!]a]', 'b', true],
    ['[!]a]', 'a', false],
    ['[]-a]', '^', true], // range ] (0x5d) .. a (0x61) includes ^ (0x5e)
    ['[]-a]', 'b', false],
  ],
  'hyphens at the edges are members; reversed ranges are dropped': [
    ['[a-]', 'a', true],
    ['[a-]', '-', true],
    ['[a-]', 'b', false],
    ['[-a]', '-', true],
    ['[-a]', 'a', true],
    ['[!-a]', 'b', true],
    ['[!-a]', '-', false],
    ['[a-a]', 'a', true],
    ['[--0]', '.', true],
    ['[--0]', '0', true],
    ['[z-a]', 'a', false],
    ['[z-a]', 'z', false],
    ['[z-a]', 'm', false],
    ['[!z-a]', 'm', true],
    ['[!z-a]', 'a', true],
    ['[!z-a]', '', false],
    // after the range a-c, the next hyphen is a member: a-c, '-', 'e'
    ['[a-c-e]', 'b', true],
    ['[a-c-e]', '-', true],
    ['[a-c-e]', 'e', true],
    ['[a-c-e]', 'd', false],
    // the reversed range b-a is dropped with both its ends: what remains is '-' and 'c'
    ['[b-a-c]', '-', true],
    ['[b-a-c]', 'c', true],
    ['[b-a-c]', 'b', false],
    ['[b-a-c]', 'a', false],
  ],
  'an unclosed [ is a literal': [
    ['[', '[', true],
    ['[', 'a', false],
    ['[abc', '[abc', true],
    ['[abc', 'a', false],
    ['a[bc', 'a[bc', true],
    ['[!', '[!', true],
    ['[!]', '[!]', true],
    ['[!]', 'a', false],
    ['[]', '[]', true],
    ['a]b', 'a]b', true],
  ],
  'characters special to JS regexes or class syntax are literal': [
    ['\\', '\\', true],
    ['[\\]', '\\', true],
    ['[\\\\]', '\\', true],
    ['a\\*', 'a\\', true],
    ['a\\*', 'a\\xyz', true],
    ['a\\*', 'a*', false],
    ['[^a]', '^', true],
    ['[^a]', 'a', true],
    ['[^a]', 'b', false],
    ['[a^]', '^', true],
    ['[[]', '[', true],
    ['[!!]', '!', false],
    ['[!!]', 'a', true],
    ['[&&]', '&', true],
    ['[~]', '~', true],
    ['[|a]', '|', true],
    ['.*', 'a.b', false],
    ['.*', '.', true],
    ['a.b', 'aXb', false],
    ['a+b', 'a+b', true],
    ['a+b', 'aab', false],
    ['(a)', '(a)', true],
    ['{a,b}', '{a,b}', true],
    ['{a,b}', 'a', false],
    ['x[.]y', 'x.y', true],
    ['x[.]y', 'xay', false],
    ['$', '$', true],
  ],
  'case-sensitive, whole-string': [
    ['payments.*', 'Payments.initiate', false],
    ['PAY', 'pay', false],
    ['[A-Z]', 'a', false],
    ['abc', 'abcd', false],
    ['abc', 'xabc', false],
    ['b', 'abc', false],
    ['', '', true],
    ['', 'a', false],
  ],
};

describe('fnmatch (Python fnmatchcase semantics)', () => {
  for (const [group, rows] of Object.entries(table)) {
    describe(group, () => {
      it.each(rows)('%j matches %j → %s', (pattern, name, expected) => {
        expect(fnmatch(name, pattern)).toBe(expected);
        expect(compileGlob(pattern)(name)).toBe(expected);
        expect(globToRegExp(pattern).test(name)).toBe(expected);
      });
    });
  }

  it('gives the same answer from the fast paths and the RegExp', () => {
    const names = ['', 'a', 'ab', 'a.b', 'payments.initiate', 'x.delete', '😀'];
    for (const pattern of [
      '*',
      '***',
      'payments.*',
      'a*',
      '*.delete',
      '*b',
      'a.b',
      'payments.initiate',
    ]) {
      for (const name of names) {
        expect(compileGlob(pattern)(name)).toBe(globToRegExp(pattern).test(name));
      }
    }
  });

  it('compiles a long star pattern to a matcher that does not backtrack exponentially', () => {
    const pattern = 'a*a*a*a*a*a*a*a*a*a*a*b';
    expect(fnmatch('a'.repeat(30), pattern)).toBe(false);
  });

  it.each([
    ['payments.initiate', true],
    ['a]b', true],
    ['', true],
    ['payments.*', false],
    ['a?', false],
    ['[abc]', false],
    ['[', false], // conservatively not literal although it only matches itself
  ])('isLiteralGlob(%j) → %s', (pattern, expected) => {
    expect(isLiteralGlob(pattern)).toBe(expected);
  });

  it.each([
    ['*', true],
    ['***', true],
    ['*.*', false],
    ['?*', false],
    ['', false],
  ])('isCatchAllGlob(%j) → %s', (pattern, expected) => {
    expect(isCatchAllGlob(pattern)).toBe(expected);
  });
});
