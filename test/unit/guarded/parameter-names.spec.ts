import {
  parseParameterNames,
  parseParameterSource,
  type ParameterSpec,
} from '../../../lib/call/parameter-names';

// Expected lists are written by hand from each signature.
const n = (name: string | null, rest = false): ParameterSpec => ({ name, rest });

describe('parseParameterSource: shapes that Function.prototype.toString returns', () => {
  const cases: Array<[string, string, ParameterSpec[]]> = [
    ['no parameters', 'function f() {}', []],
    ['plain function', 'function f(a, b, c) { return a; }', [n('a'), n('b'), n('c')]],
    ['anonymous function', 'function (x, y) {}', [n('x'), n('y')]],
    ['async function', 'async function send(to, template) {}', [n('to'), n('template')]],
    ['generator', 'function* gen(a, b) {}', [n('a'), n('b')]],
    ['async generator method', 'async *stream(a) {}', [n('a')]],
    [
      'method',
      'initiate(amount, currency, recipientId) { return 1; }',
      [n('amount'), n('currency'), n('recipientId')],
    ],
    ['async method', 'async initiate(amount, currency) { await x; }', [n('amount'), n('currency')]],
    ['method named like a keyword', 'function(a) {}', [n('a')]],
    ['method named async', 'async(a, b) {}', [n('a'), n('b')]],
    ['method named get', 'get(a) {}', [n('a')]],
    ['computed method name with a call', "[Symbol.for('x(y, z)')](a, b) {}", [n('a'), n('b')]],
    ['computed name with brackets and parens', '[names[0] + f(1, 2)](q) {}', [n('q')]],
    ['quoted method name holding a paren', "'odd(name'(p) {}", [n('p')]],
    ['private method', '#secret(a, _b) {}', [n('a'), n('_b')]],
    ['arrow with parens', '(a, b) => a + b', [n('a'), n('b')]],
    ['arrow, single bare parameter', 'value => value * 2', [n('value')]],
    ['async arrow, single bare parameter', 'async value => value', [n('value')]],
    ['async arrow with parens', 'async (a, { b }) => a', [n('a'), n(null)]],
    ['trailing comma', 'function f(a, b,) {}', [n('a'), n('b')]],
    [
      'default with commas and parens',
      'function f(a = g(1, 2), b = [3, 4], c) {}',
      [n('a'), n('b'), n('c')],
    ],
    ['default object literal', 'function f(opts = { x: 1, y: (2, 3) }, z) {}', [n('opts'), n('z')]],
    [
      'default string with comma and paren',
      'function f(sep = \', )\', t = "a,(b") {}',
      [n('sep'), n('t')],
    ],
    ['default string with escaped quote', "function f(s = 'it\\'s, ok', t) {}", [n('s'), n('t')]],
    ['default template literal', 'function f(msg = `a, ${b(1, 2)} )`, k) {}', [n('msg'), n('k')]],
    ['nested template literal', 'function f(msg = `x${`y, ${z}, )`}`, k) {}', [n('msg'), n('k')]],
    [
      'template with braces inside ${}',
      'function f(m = `${{ a: 1, b: 2 }.a}`, k) {}',
      [n('m'), n('k')],
    ],
    ['default arrow function', 'function f(cb = (x, y) => x + y, last) {}', [n('cb'), n('last')]],
    [
      'default arrow with body',
      'function f(cb = (x) => { return (x, 1); }, last) {}',
      [n('cb'), n('last')],
    ],
    [
      'default regex with comma and paren',
      'function f(re = /a,(b/g, next) {}',
      [n('re'), n('next')],
    ],
    [
      'default regex with slash in class',
      'function f(re = /[/,)]+/, next) {}',
      [n('re'), n('next')],
    ],
    [
      'division is not a regex',
      'function f(a = (1) / 2, b = x / y / z, c) {}',
      [n('a'), n('b'), n('c')],
    ],
    ['regex after arrow', 'function f(t = (s) => /x,y/.test(s), u) {}', [n('t'), n('u')]],
    ['regex after keyword', 'function f(g = () => { return /,)/; }, h) {}', [n('g'), n('h')]],
    [
      'line comments between parameters',
      'function f(a, // the amount, really\n b /* (currency) */, c) {}',
      [n('a'), n('b'), n('c')],
    ],
    [
      'block comment holding a paren and comma',
      'function f(/* ), x, */ a, b) {}',
      [n('a'), n('b')],
    ],
    ['comment before the list', 'function /* (a) */ f(x) {}', [n('x')]],
    ['object destructuring', 'function f({ a, b }, c) {}', [n(null), n('c')]],
    [
      'array destructuring with defaults',
      'function f([x, y = (1, 2)] = [], z) {}',
      [n(null), n('z')],
    ],
    [
      'destructuring with nested defaults',
      'function f({ a = ",", b: { c } = {} }, d) {}',
      [n(null), n('d')],
    ],
    ['rest parameter', 'function f(first, ...others) {}', [n('first'), n('others', true)]],
    ['destructured rest', 'function f(a, ...[b, c]) {}', [n('a'), n(null, true)]],
    [
      'unicode and $ identifiers',
      'function f(montant, $dollar, ünïcode, _$x) {}',
      [n('montant'), n('$dollar'), n('ünïcode'), n('_$x')],
    ],
    [
      'numbers with exponents and decimals',
      'function f(a = 1.5e-3, b = .5 / 2, c) {}',
      [n('a'), n('b'), n('c')],
    ],
    ['postfix increment then division', 'function f(a = i++ / 2, b) {}', [n('a'), n('b')]],
  ];

  it.each(cases)('%s', (_label, source, expected) => {
    expect(parseParameterSource(source)).toEqual(expected);
  });

  it('reads nothing from a class body or from text with no list', () => {
    expect(parseParameterSource('class A { m(a) {} }')).toBeNull();
    expect(parseParameterSource('')).toBeNull();
  });
});

describe('parseParameterNames: real functions as this file was compiled', () => {
  it('reads methods, async methods and statics of a class', () => {
    class Payments {
      async initiate(amount: number, currency: string, recipientId: string) {
        return { amount, currency, recipientId };
      }
      sum(a = Math.max(1, 2), ...rest: number[]) {
        return a + rest.length;
      }
      static make(kind: string, { size }: { size: number }) {
        return `${kind}${size}`;
      }
      async [`computed${'Name'}`](x: number, _skip?: string) {
        return x;
      }
    }
    expect(parseParameterNames(Payments.prototype.initiate)).toEqual([
      n('amount'),
      n('currency'),
      n('recipientId'),
    ]);
    expect(parseParameterNames(Payments.prototype.sum)).toEqual([n('a'), n('rest', true)]);
    expect(parseParameterNames(Payments.make)).toEqual([n('kind'), n(null)]);
    const computed = (Payments.prototype as unknown as Record<string, Function>).computedName;
    expect(parseParameterNames(computed)).toEqual([n('x'), n('_skip')]);
  });

  it('reads TypeScript that used parameter properties, `this` parameters and decorators', () => {
    function Param(): ParameterDecorator {
      return () => undefined;
    }
    class Ctl {
      handle(this: Ctl, @Param() body: { a: number }, @Param() _req?: unknown): string {
        return String(body.a);
      }
    }
    expect(parseParameterNames(Ctl.prototype.handle)).toEqual([n('body'), n('_req')]);
  });

  it('returns null for native and bound functions, whose source says nothing', () => {
    expect(parseParameterNames(Math.max)).toBeNull();
    expect(
      parseParameterNames(
        function f(a: number) {
          return a;
        }.bind(null),
      ),
    ).toBeNull();
  });

  it('reads tsc output for an ES2015 target (defaults kept, async as __awaiter)', () => {
    // What tsc 5.9 emits for `async initiate(amount: number, currency = 'GBP', ...tags: string[])`
    // with target ES2015: the async body moves into __awaiter, the list stays.
    const source =
      "initiate(amount, currency = 'GBP', ...tags) {\n" +
      "        return __awaiter(this, arguments, void 0, function* (amount, currency = 'GBP', ...tags) { return 1; });\n" +
      '    }';
    expect(parseParameterSource(source)).toEqual([n('amount'), n('currency'), n('tags', true)]);
  });

  it('reads swc output with the helpers it inlines into defaults', () => {
    const source = 'function run(a, b = _define_property({}, "k,)", 1), ...c) {\n    return a;\n}';
    expect(parseParameterSource(source)).toEqual([n('a'), n('b'), n('c', true)]);
  });
});
