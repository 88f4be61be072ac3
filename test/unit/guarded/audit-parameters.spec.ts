import { auditParameters, namingFor } from '../../../lib/call/audit-parameters';
import { parseParameterSource } from '../../../lib/call/parameter-names';

const params = (source: string, args: unknown[], skip?: Set<number>) =>
  auditParameters(namingFor(parseParameterSource(source), skip), args, skip);

describe('audit parameters from arguments', () => {
  it('keys arguments by parameter name', () => {
    expect(params('f(amount, currency, recipientId) {}', [50, 'GBP', 'rec'])).toEqual({
      amount: 50,
      currency: 'GBP',
      recipientId: 'rec',
    });
  });

  it('leaves out _names and undefined arguments, keeps null', () => {
    expect(params('f(a, _b, c, d) {}', [1, 2, undefined, null])).toEqual({ a: 1, d: null });
  });

  it('omits missing trailing arguments', () => {
    expect(params('f(a, b = 2) {}', [1])).toEqual({ a: 1 });
  });

  it('collects rest arguments into an array, [] when none are left', () => {
    expect(params('f(a, ...more) {}', [1, 2, 3])).toEqual({ a: 1, more: [2, 3] });
    expect(params('f(a, ...more) {}', [1])).toEqual({ a: 1, more: [] });
    expect(params('f(a, ..._more) {}', [1, 2])).toEqual({ a: 1 });
  });

  it('keys destructured parameters and extra arguments arg<i>', () => {
    expect(params('f({ x }, [y], z) {}', [{ x: 1 }, [2], 3, 4])).toEqual({
      arg0: { x: 1 },
      arg1: [2],
      z: 3,
      arg3: 4,
    });
  });

  it('never lets a synthesized key overwrite a declared name', () => {
    expect(params('f(arg1, { b }) {}', ['named', { b: 1 }])).toEqual({
      arg1: 'named',
      $arg1: { b: 1 },
    });
  });

  it('skips the positions it is told to (a Nest @Req() or @Res())', () => {
    expect(params('f(body, req, res) {}', [{ a: 1 }, 'REQ', 'RES'], new Set([1, 2]))).toEqual({
      body: { a: 1 },
    });
  });

  it('names every argument arg<i> when the source says nothing (a native or bound function)', () => {
    expect(auditParameters(namingFor(null), [1, 'x'])).toEqual({ arg0: 1, arg1: 'x' });
  });
});
