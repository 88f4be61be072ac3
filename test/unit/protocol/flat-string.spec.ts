import { flatString } from '../../../lib/protocol/flat-string';
import { canonicalTextOf, flattenCanonicalText } from '../../../lib/protocol/canonical-stamp';
import { normalizeParameters } from '../../../lib/protocol/call-parameters';

describe('flatString', () => {
  it('gives back an equal text, whatever it holds', () => {
    for (const text of [
      '',
      'a',
      'x'.repeat(20) + String(Math.random()),
      'a\u0000b',
      '\u0000',
      'é✓😀',
    ]) {
      expect(flatString(text)).toBe(text);
    }
  });

  it('keeps a held call’s remembered canonical text equal when it is flattened', () => {
    const parameters = normalizeParameters(
      'payments.initiate',
      { amount: 900, memo: 'x'.repeat(40) },
      1e6,
    );
    const before = canonicalTextOf(parameters);
    flattenCanonicalText(parameters);
    expect(canonicalTextOf(parameters)).toBe(before);
    flattenCanonicalText(null);
    flattenCanonicalText({ plain: true });
    expect(canonicalTextOf({ plain: true })).toBeUndefined();
  });
});
