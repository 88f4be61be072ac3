/*
 * Issue 7, item 3: hostile or unusual call input, through `execute()` and
 * `@Guarded`. Each value either has the documented serialization (the table
 * on normalizeParameters in lib/gateway/call-parameters.ts), checked here on
 * what the gateway actually received, or is refused with an
 * InvalidParametersError before anything is sent.
 */
import { InvalidParametersError, ProvenanceError } from '../../lib/protocol/provenance.errors';
import {
  startReferenceGateway,
  type ReferenceGateway,
} from '../fixtures/reference-gateway.fixture';
import { bootToolApp, rejectionOf, type ToolApp } from './reliability.fixture';

const MiB = 1024 * 1024;

function circular(): Record<string, unknown> {
  const node: Record<string, unknown> = { name: 'loop' };
  node.self = node;
  return node;
}

/** `{ c: { c: ... { c: 'bottom' } } }`, `levels` objects deep, built without recursion. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { c: 'bottom' };
  for (let i = 1; i < levels; i++) value = { c: value };
  return value;
}

interface Refusal {
  name: string;
  value: () => unknown;
  /** The path the error names, relative to the value (`$` is the value itself). */
  at: string;
  says: RegExp;
}

// A value under the key `v`: execute() sends `{ v: value }`, @Guarded sends `{ input: value }`.
const REFUSED: Refusal[] = [
  { name: 'a circular structure', value: circular, at: '.self', says: /cycle/ },
  { name: 'a BigInt', value: () => 10n ** 20n, at: '', says: /BigInt/ },
  { name: 'a function', value: () => () => 'callback', at: '', says: /is a function/ },
  { name: 'a symbol value', value: () => Symbol('s'), at: '', says: /is a symbol/ },
  { name: 'a Buffer', value: () => Buffer.from('secret bytes'), at: '', says: /binary data/ },
  {
    name: 'a typed array',
    value: () => new Uint8Array([1, 2, 3]),
    at: '',
    says: /binary data/,
  },
  { name: 'a Map', value: () => new Map([['a', 1]]), at: '', says: /is a Map/ },
  { name: 'NaN', value: () => NaN, at: '', says: /NaN/ },
  { name: 'an invalid Date', value: () => new Date('not a date'), at: '', says: /invalid Date/ },
  {
    name: '10 000 levels of nesting',
    value: () => nested(10_000),
    // Refused when the walk passes MAX_PARAMETER_DEPTH (100): the 100th level below the top.
    at: '.c'.repeat(99),
    says: /nested more than 100 levels deep/,
  },
  {
    name: '10 MB of parameters (limit 1 MiB)',
    value: () => 'x'.repeat(10 * MiB),
    at: null as unknown as string,
    says: /larger than maxParametersBytes \(1048576 bytes of JSON\)/,
  },
  {
    name: 'a getter that throws',
    value: () => ({
      get boom(): never {
        throw new Error('getter exploded');
      },
    }),
    at: '.boom',
    says: /getter exploded/,
  },
  {
    name: 'a Proxy whose ownKeys trap throws',
    value: () =>
      new Proxy(
        {},
        {
          ownKeys(): never {
            throw new Error('trap exploded');
          },
        },
      ),
    at: '',
    says: /trap exploded/,
  },
  {
    name: 'a toJSON that throws',
    value: () => ({
      toJSON(): never {
        throw new Error('toJSON exploded');
      },
    }),
    at: '',
    says: /toJSON exploded/,
  },
];

describe('bad call input through execute() and @Guarded (item 3)', () => {
  let gateway: ReferenceGateway;
  let booted: ToolApp;

  beforeAll(async () => {
    gateway = await startReferenceGateway();
    booted = await bootToolApp({
      gatewayUrl: gateway.url,
      agentId: 'agent-input',
      apiKey: gateway.apiKey,
      timeout: 10_000,
    });
  });

  afterAll(async () => {
    await booted.app.close();
    await gateway.close();
  });

  beforeEach(() => {
    gateway.requests.length = 0;
    booted.tool.runs = 0;
  });

  const sentParameters = (): unknown => {
    expect(gateway.requests).toHaveLength(1);
    return (gateway.requests[0].body as { parameters: unknown }).parameters;
  };

  describe('refused before anything is sent', () => {
    it.each(REFUSED.map((c) => [c.name, c] as const))(
      'execute() with %s',
      async (_name, refusal) => {
        const error = await rejectionOf(booted.gateway.execute('tool.run', { v: refusal.value() }));
        expect(error).toBeInstanceOf(InvalidParametersError);
        expect(error).toBeInstanceOf(ProvenanceError);
        expect(error.message).toMatch(refusal.says);
        expect(error.message).toContain('Nothing was sent');
        if (refusal.at !== null)
          expect((error as InvalidParametersError).path).toBe(`$.v${refusal.at}`);
        expect((error as InvalidParametersError).action).toBe('tool.run');
        expect(gateway.requests).toEqual([]);
      },
    );

    it.each(REFUSED.map((c) => [c.name, c] as const))(
      '@Guarded with %s: the body never runs',
      async (_name, refusal) => {
        const error = await rejectionOf(booted.tool.run(refusal.value()));
        expect(error).toBeInstanceOf(InvalidParametersError);
        expect(error.message).toMatch(refusal.says);
        if (refusal.at !== null) {
          expect((error as InvalidParametersError).path).toBe(`$.input${refusal.at}`);
        }
        expect(booted.tool.runs).toBe(0);
        expect(gateway.requests).toEqual([]);
      },
    );

    it('parameters that are not an object (a string, an array) are refused for execute()', async () => {
      for (const bad of ['just a string', [1, 2, 3], 42]) {
        const error = await rejectionOf(booted.gateway.execute('tool.run', bad));
        expect(error).toBeInstanceOf(InvalidParametersError);
      }
      expect(gateway.requests).toEqual([]);
    });
  });

  describe('documented serializations, as the gateway received them', () => {
    it('a Date becomes its ISO string', async () => {
      await booted.gateway.execute('tool.run', {
        at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
      });
      expect(sentParameters()).toEqual({ at: '2026-01-02T03:04:05.678Z' });
    });

    it('an undefined property is dropped; undefined in an array becomes null', async () => {
      await booted.gateway.execute('tool.run', { a: 1, b: undefined, list: [1, undefined, 3] });
      expect(gateway.requests[0].raw).toContain('"parameters":{"a":1,"list":[1,null,3]}');
    });

    it('__proto__ and constructor keys are sent as ordinary keys, and nothing is polluted', async () => {
      // JSON.parse makes `__proto__` an own key, as a request body parsed by Express would.
      const hostile = JSON.parse(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      ) as Record<string, unknown>;
      await booted.gateway.execute('tool.run', hostile);

      expect(gateway.requests[0].raw).toContain(
        '"parameters":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('symbol-keyed properties are left out (only own string keys are sent)', async () => {
      await booted.gateway.execute('tool.run', { [Symbol('hidden')]: 'x', shown: 'y' });
      expect(sentParameters()).toEqual({ shown: 'y' });
    });

    it('an object with toJSON is sent as what toJSON returns; a class instance as its own fields', async () => {
      class Money {
        constructor(
          readonly amount: number,
          readonly currency: string,
        ) {}
        get display(): string {
          return `${this.amount} ${this.currency}`;
        }
      }
      await booted.gateway.execute('tool.run', {
        price: new Money(5, 'EUR'),
        url: new URL('https://example.com/a?b=c'),
      });
      expect(sentParameters()).toEqual({
        price: { amount: 5, currency: 'EUR' },
        url: 'https://example.com/a?b=c',
      });
    });

    it('@Guarded: an undefined argument is left out, a Date argument is its ISO string', async () => {
      await expect(booted.tool.run(undefined)).resolves.toBe('ran undefined');
      await expect(booted.tool.run(new Date(0))).resolves.toBe('ran object');
      expect(gateway.requests.map((r) => (r.body as { parameters: unknown }).parameters)).toEqual([
        {},
        { input: '1970-01-01T00:00:00.000Z' },
      ]);
      expect(booted.tool.runs).toBe(2);
    });

    it('10 MB of parameters go through whole when maxParametersBytes allows them', async () => {
      const big = await bootToolApp({
        gatewayUrl: gateway.url,
        agentId: 'agent-input',
        apiKey: gateway.apiKey,
        timeout: 20_000,
        maxParametersBytes: 16 * MiB,
      });
      try {
        const blob = 'x'.repeat(10 * MiB);
        await expect(big.tool.run(blob)).resolves.toBe('ran string');
        const sent = sentParameters() as { input: string };
        expect(sent.input.length).toBe(10 * MiB);
        expect(sent.input === blob).toBe(true);
      } finally {
        await big.app.close();
      }
    });
  });
});
