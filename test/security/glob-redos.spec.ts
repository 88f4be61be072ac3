import { compileGlob, globMatchSteps, globToRegExp } from '../../lib/engine/policy/fnmatch';
import { compilePolicy } from '../../lib/engine/policy/policy.compiler';

/*
 * Policy globs are written by tenants and actions by agents; one evaluation
 * runs on the server's only thread, so a glob that backtracks stalls every
 * tenant. CPython's RegExp translation (`.*` per star) did: the two globs
 * below took 3-6 s each. The matcher must do at most c·|glob|·|name| steps;
 * it counts them (globMatchSteps), so this proves it without a clock.
 */

const C = 4;

function stepsOf(glob: string, name: string): { matched: boolean; steps: number } {
  const matcher = compileGlob(glob);
  const before = globMatchSteps();
  const matched = matcher(name);
  return { matched, steps: globMatchSteps() - before };
}

function expectLinear(glob: string, name: string, expected: boolean): void {
  const { matched, steps } = stepsOf(glob, name);
  expect(matched).toBe(expected);
  // The counted matcher ran (not an uncounted RegExp), and within the bound.
  expect(steps).toBeGreaterThan(0);
  expect(steps).toBeLessThanOrEqual(C * Array.from(glob).length * Math.max(1, name.length));
}

describe('action globs match in linear time (ReDoS)', () => {
  it('*a*a*a*a*a*a*a*a*a*b against 36 `a` (stalled the server 6.3 s)', () => {
    expectLinear('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(36), false);
    expectLinear('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(36) + 'b', true);
    // Far longer than anything a RegExp could finish.
    expectLinear('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100_000), false);
  });

  it('*.*.delete against an 80 KB action (stalled the server 4 s)', () => {
    expectLinear('*.*.delete', '.'.repeat(80_000), false);
    expectLinear('*.*.delete', 'x.'.repeat(40_000), false);
    expectLinear('*.*.delete', 'x.'.repeat(40_000) + 'delete', true);
  });

  // Each name ends the way the glob does, so the segments between the stars are searched for
  // along the whole name and fail only at its end: the RegExp's worst case.
  it.each([
    ['*a*a*a*a*a*a*a*a*a*b', 'c'.repeat(100_000) + 'b'],
    ['?*a*a*a*a*a*a*?', 'b'.repeat(100_000)],
    ['*[ab]*[ab]*[ab]*[ab]*[ab]*c', 'x'.repeat(50_000) + 'c'],
    ['a*c*c*c*c*c*c*b', 'a' + 'x'.repeat(50_000) + 'b'],
    ['*aa*aa*aa*aab*', 'a'.repeat(50_000)],
    ['*[!x]?[a-c]*[!x]?[d-f]*d', 'abc'.repeat(20_000) + 'd'],
    ['*😀*😀*y*x', '😀'.repeat(20_000) + 'x'],
    ['*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?[!a]', 'a'.repeat(50_000)],
  ])('hostile glob %j against a long name stays within c·|glob|·|name| steps', (glob, name) => {
    expectLinear(glob, name, false);
  });

  it('the policy evaluation (the hot path of every call) does not stall either', () => {
    const policy = compilePolicy({
      name: 'hostile',
      rules: [
        { action: '*a*a*a*a*a*a*a*a*a*b', on_match: 'BLOCK', reason: 'never' },
        { action: '*.*.delete', on_match: 'BLOCK', reason: 'deletes' },
      ],
    });
    const before = globMatchSteps();
    expect(policy.evaluate('a'.repeat(36), null).decision).toBe('ALLOW');
    expect(policy.evaluate('.'.repeat(80_000), null).decision).toBe('ALLOW');
    expect(policy.evaluate('org.user.delete', null).decision).toBe('BLOCK');
    const steps = globMatchSteps() - before;
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThanOrEqual(C * 20 * 80_100);
  });
});

/*
 * The matcher against CPython's translation (globToRegExp, pinned by the
 * oracle table of test/unit/engine/policy/fnmatch.spec.ts) on short inputs,
 * where the RegExp is fast: every answer must be the same.
 */
describe('the linear matcher answers exactly as the RegExp translation', () => {
  // A fixed seed: a failure names its glob and name and reproduces.
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const GLOB_ALPHABET = ['a', 'b', '*', '?', '[', ']', '!', '-', '.', '^', '\\', '\n', '😀'];
  // Lone surrogates: a glob's lone half never matches half of a pair in the name.
  const EDGE_ALPHABET = [...GLOB_ALPHABET, '\ud83d', '\ude00', '\ud800', '\udc00'];
  const NAME_ALPHABET = ['a', 'b', 'c', '[', ']', '!', '-', '.', '^', '\\', '\n', '😀', '\ud800'];

  function mismatches(alphabet: string[], seed: number, globs: number, namesPerGlob: number) {
    const rnd = random(seed);
    const pick = (from: string[]): string => from[Math.floor(rnd() * from.length)];
    const found: Array<[string, string, boolean]> = [];
    let positives = 0;
    let compared = 0;
    for (let g = 0; g < globs; g++) {
      let glob = '';
      const length = 1 + Math.floor(rnd() * 9);
      for (let k = 0; k < length; k++) glob += pick(alphabet);
      const regex = globToRegExp(glob);
      const matcher = compileGlob(glob);
      for (let n = 0; n < namesPerGlob; n++) {
        // Half the names follow the glob (so that many match), half are noise.
        let name = '';
        if (n % 2 === 0) {
          for (const c of Array.from(glob)) {
            if (c === '*') {
              const run = Math.floor(rnd() * 4);
              for (let r = 0; r < run; r++) name += pick(NAME_ALPHABET);
            } else name += rnd() < 0.7 ? c : pick(NAME_ALPHABET);
          }
        } else {
          const run = Math.floor(rnd() * 10);
          for (let r = 0; r < run; r++) name += pick(NAME_ALPHABET);
        }
        const expected = regex.test(name);
        if (expected) positives++;
        compared++;
        if (matcher(name) !== expected) found.push([glob, name, expected]);
      }
    }
    return { found, positives, compared };
  }

  it('on 5 000 random globs × 20 names over `ab*?[]!-.^\\`, newline and an emoji', () => {
    const { found, positives, compared } = mismatches(GLOB_ALPHABET, 20240611, 5_000, 20);
    expect(found.slice(0, 10)).toEqual([]);
    expect(compared).toBe(100_000);
    expect(positives).toBeGreaterThan(10_000); // the comparison is not all "no match"
  });

  it('on 5 000 random globs × 20 names with lone surrogates', () => {
    const { found } = mismatches(EDGE_ALPHABET, 77, 5_000, 20);
    expect(found.slice(0, 10)).toEqual([]);
  });

  it.each([
    ['\ud83d*', '😀'],
    ['*\ude00', '😀'],
    ['\ud83d*\ude00', '😀'],
    ['\ud83d*x', '😀x'],
    ['x*\ude00', 'x😀'],
    ['*\ud83d*', 'a😀b'],
  ])('a lone surrogate in %j never matches half of the pair in %j', (glob, name) => {
    expect(globToRegExp(glob).test(name)).toBe(false);
    expect(compileGlob(glob)(name)).toBe(false);
  });

  it('on every glob of up to 4 characters from `a*?[]!-` against every name of up to 4 of `a-]!`', () => {
    const globChars = ['a', '*', '?', '[', ']', '!', '-'];
    const nameChars = ['a', '-', ']', '!'];
    const all = (chars: string[], max: number): string[] => {
      const out = [''];
      let level = [''];
      for (let l = 1; l <= max; l++) {
        level = level.flatMap((s) => chars.map((c) => s + c));
        out.push(...level);
      }
      return out;
    };
    const names = all(nameChars, 4);
    const wrong: Array<[string, string]> = [];
    for (const glob of all(globChars, 4)) {
      const regex = globToRegExp(glob);
      const matcher = compileGlob(glob);
      for (const name of names) if (matcher(name) !== regex.test(name)) wrong.push([glob, name]);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });
});
