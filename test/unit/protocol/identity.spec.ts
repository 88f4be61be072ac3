import {
  ACTION_RULE,
  actionProblem,
  actionRuleBrokenBy,
  isValidAction,
  MAX_ACTION_LENGTH,
} from '../../../lib/protocol/action';
import {
  describeTextProblem,
  escapeForbiddenCharacters,
  identityProblem,
  isForbiddenCharacter,
  isValidIdentity,
  MAX_IDENTITY_LENGTH,
} from '../../../lib/protocol/identity';

describe('the identity rule (lib/protocol/identity.ts)', () => {
  it('limits identities and actions to 256 characters', () => {
    expect(MAX_IDENTITY_LENGTH).toBe(256);
    expect(MAX_ACTION_LENGTH).toBe(256);
  });

  it.each([
    [0x00, true],
    [0x0a, true],
    [0x1b, true],
    [0x1f, true],
    [0x20, false],
    [0x7e, false],
    [0x7f, true],
    [0x80, true],
    [0x85, true],
    [0x9b, true],
    [0x9f, true],
    [0xa0, false],
    [0x200d, false], // ZWJ: emoji sequences, Indic scripts
    [0x200e, false], // LRM: a mark, cannot move text
    [0x2027, false],
    [0x2028, true],
    [0x2029, true],
    [0x202a, true],
    [0x202e, true],
    [0x202f, false],
    [0x2065, false],
    [0x2066, true],
    [0x2069, true],
    [0x206a, false],
  ])('U+%s forbidden: %s', (unit, forbidden) => {
    expect(isForbiddenCharacter(unit)).toBe(forbidden);
    expect(isValidIdentity(`a${String.fromCharCode(unit)}b`)).toBe(!forbidden);
  });

  it('says what is wrong, first thing first', () => {
    expect(identityProblem(42)).toEqual({ kind: 'not-a-string' });
    expect(identityProblem('')).toEqual({ kind: 'blank' });
    expect(identityProblem(' \t\n')).toEqual({ kind: 'blank' });
    expect(identityProblem('a'.repeat(257))).toEqual({ kind: 'too-long', length: 257, max: 256 });
    expect(identityProblem('😀ab\u001b[0m')).toEqual({
      kind: 'forbidden-character',
      codePoint: 0x1b,
      index: 3,
    });
    expect(identityProblem('cfo@example.com')).toBeNull();
  });

  it('counts characters as code points, as Python does', () => {
    expect(isValidIdentity('😀'.repeat(256))).toBe(true);
    expect(identityProblem('😀'.repeat(257))).toEqual({ kind: 'too-long', length: 257, max: 256 });
  });

  it('words the problem without echoing the character', () => {
    expect(describeTextProblem({ kind: 'too-long', length: 300, max: 256 })).toBe(
      'is 300 characters long; the limit is 256',
    );
    expect(describeTextProblem({ kind: 'forbidden-character', codePoint: 0x202e, index: 2 })).toBe(
      'contains the bidi control U+202E at index 2',
    );
    expect(describeTextProblem({ kind: 'forbidden-character', codePoint: 0x2028, index: 0 })).toBe(
      'contains the line separator U+2028 at index 0',
    );
    expect(escapeForbiddenCharacters('a\nb\u001b[2Kc\u202e😀')).toBe(
      'a\\u{a}b\\u{1b}[2Kc\\u{202e}😀',
    );
    expect(escapeForbiddenCharacters('plain')).toBe('plain');
  });
});

describe('the action rule (lib/protocol/action.ts)', () => {
  it('is the identity rule with its own limit', () => {
    expect(isValidAction('payments.initiate')).toBe(true);
    expect(isValidAction('a'.repeat(256))).toBe(true);
    expect(isValidAction('a'.repeat(257))).toBe(false);
    expect(isValidAction('   ')).toBe(false);
    expect(isValidAction('pay\nments')).toBe(false);
    expect(actionProblem('x'.repeat(80_000))).toEqual({
      kind: 'too-long',
      length: 80_000,
      max: 256,
    });
  });

  it('names the limit and the length in the "must be" text', () => {
    expect(actionRuleBrokenBy('payments.initiate')).toBe(ACTION_RULE);
    expect(actionRuleBrokenBy('a'.repeat(300))).toBe(
      `${ACTION_RULE}; it is 300 characters long; the limit is 256`,
    );
    expect(ACTION_RULE).toMatch(/at most 256 characters/);
  });
});
