import 'reflect-metadata';
import { Observable, defer, firstValueFrom, lastValueFrom, of, toArray } from 'rxjs';
import { ExecutionResult } from '../../../lib/protocol/execution-result';
import {
  EscalationTimeoutError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../../lib/protocol/provenance.errors';
import type { EscalationEvent } from '../../../lib/protocol/escalation-event';
import { GatewayRegistry } from '../../../lib/gateway/gateway.registry';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import { Guarded, getGuardedMetadata } from '../../../lib/guarded/guarded.decorator';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';

const silent = { log() {}, warn() {}, error() {} };

const policy: PolicyDocument = {
  name: 'unit',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '>', value: 100 }],
      on_match: 'BLOCK',
      reason: 'too much',
    },
    { action: 'mail.blocked', on_match: 'BLOCK', reason: 'no mail' },
    { action: 'review.*', on_match: 'ESCALATE', reason: 'a human looks' },
  ],
};

const gateways: ProvenanceGateway[] = [];
function newGateway(extra: Record<string, unknown> = {}): ProvenanceGateway {
  const gateway = new ProvenanceGateway({
    agentId: 'agent-unit',
    policy,
    audit: { store: 'memory' },
    logger: silent,
    ...extra,
  });
  gateways.push(gateway);
  return gateway;
}

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** The parameters the gateway saw, read from the escalation it raised, and the call rejected. */
async function parametersOf(gateway: ProvenanceGateway, call: () => Promise<unknown>) {
  const seen = firstValueFrom(gateway.escalations$);
  const outcome = call().catch((e: unknown) => e);
  const pending: EscalationEvent = await seen;
  await gateway.gatewayTransport.decide(pending.escalationId, 'REJECT', { approverId: 'unit' });
  await outcome;
  return pending;
}

class Payments {
  calls = 0;

  @Guarded('payments.initiate')
  async initiate(amount: number, currency: string, recipientId: string) {
    this.calls++;
    return { paid: amount, currency, recipientId };
  }

  @Guarded('mail.blocked', { raiseOnBlock: false })
  async quietlyBlocked(to: string) {
    this.calls++;
    return `sent to ${to}`;
  }

  @Guarded()
  async unnamed(x: number) {
    this.calls++;
    return x * 2;
  }

  @Guarded('review.transfer')
  async transfer(amount: number, _internal: string, note?: string, ...tags: string[]) {
    this.calls++;
    return { amount, note, tags };
  }

  @Guarded('review.destructured')
  async destructured({ a }: { a: number }, [b]: number[], c: number) {
    return a + b + c;
  }

  @Guarded('review.custom', { params: (amount: number) => ({ cents: amount * 100 }) })
  async custom(amount: number, _secret: string) {
    return amount;
  }

  @Guarded('payments.initiate', { sessionId: 'sess_fixed' })
  async fixedSession(amount: number) {
    return amount;
  }

  @Guarded('stream.numbers')
  numbers(count: number): Observable<number> {
    this.calls++;
    return of(...Array.from({ length: count }, (_, i) => i + 1));
  }

  @Guarded('mail.blocked')
  blockedStream(): Observable<number> {
    this.calls++;
    return of(1);
  }

  @Guarded('mail.blocked', { raiseOnBlock: false })
  quietStream(): Observable<number> {
    this.calls++;
    return of(1);
  }

  @Guarded('payments.initiate', { returns: 'observable' })
  undeclaredStream() {
    this.calls++;
    return defer(() => of('a', 'b')) as Observable<string>;
  }
}

describe('@Guarded on a promise-returning method', () => {
  it('runs the body once on ALLOW, returns its value and records it as toolResult', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const session = gateway.session('sess_allow');
    const value = await gateway.runInSession(session, () => payments.initiate(50, 'GBP', 'rec_1'));
    expect(value).toEqual({ paid: 50, currency: 'GBP', recipientId: 'rec_1' });
    expect(payments.calls).toBe(1);
    expect(session.results).toHaveLength(1);
    expect(session.results[0].decision).toBe('ALLOW');
    expect(session.results[0].action).toBe('payments.initiate');
    expect(session.results[0].sessionId).toBe('sess_allow');
    expect(session.results[0].toolResult).toEqual({
      paid: 50,
      currency: 'GBP',
      recipientId: 'rec_1',
    });
  });

  it('never runs the body on BLOCK; the session counts the block', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const session = gateway.session();
    const error = await gateway
      .runInSession(session, () => payments.initiate(500, 'GBP', 'rec_1'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect((error as PolicyBlockedError).reason).toBe('too much');
    expect(payments.calls).toBe(0);
    expect(session.blockedCount).toBe(1);
    expect(session.allowedCount).toBe(0);
  });

  it('with raiseOnBlock: false resolves to undefined and still does not run the body', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const session = gateway.session();
    await expect(
      gateway.runInSession(session, () => payments.quietlyBlocked('a@b.c')),
    ).resolves.toBeUndefined();
    expect(payments.calls).toBe(0);
    expect(session.blockedCount).toBe(1);
  });

  it('raises an expired escalation even with raiseOnBlock: false', async () => {
    const gateway = newGateway({ escalationTimeout: 50 });
    class Slow {
      ran = false;
      @Guarded('review.slow', { raiseOnBlock: false })
      async act() {
        this.ran = true;
      }
    }
    const slow = new Slow();
    await expect(slow.act()).rejects.toBeInstanceOf(EscalationTimeoutError);
    expect(slow.ran).toBe(false);
    expect(gateway.pendingEscalationEvents()).toEqual([]);
  });

  it('names the action ClassName.methodName when none is given', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const session = gateway.session();
    await gateway.runInSession(session, () => payments.unnamed(2));
    expect(session.results[0].action).toBe('Payments.unnamed');
    expect(getGuardedMetadata(Payments.prototype.unnamed)?.action).toBe('Payments.unnamed');
  });

  it('sends the arguments by parameter name, leaving out _names and undefined, with rest as an array', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const seen = await parametersOf(gateway, () =>
      payments.transfer(900, 'hidden', undefined, 'x', 'y'),
    );
    expect(seen.action).toBe('review.transfer');
    expect(seen.parameters).toEqual({ amount: 900, tags: ['x', 'y'] });
    expect(payments.calls).toBe(0);
  });

  it('keys a destructured parameter arg<i>', async () => {
    const gateway = newGateway();
    const seen = await parametersOf(gateway, () => new Payments().destructured({ a: 1 }, [2], 3));
    expect(seen.parameters).toEqual({ arg0: { a: 1 }, arg1: [2], c: 3 });
  });

  it('uses the params option instead when given', async () => {
    const gateway = newGateway();
    const seen = await parametersOf(gateway, () => new Payments().custom(7, 'pw'));
    expect(seen.parameters).toEqual({ cents: 700 });
  });

  it('lets the sessionId option override the current session', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const outer = gateway.session('sess_outer');
    const result = await gateway.runInSession(outer, async () => {
      await payments.fixedSession(1);
      return outer.results.length;
    });
    expect(result).toBe(0);
  });

  it('throws a ProvenanceError and never runs the body when no gateway is live', async () => {
    const payments = new Payments();
    const error = await payments.initiate(1, 'GBP', 'r').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvenanceError);
    expect((error as Error).message).toContain('Payments.initiate');
    expect((error as Error).message).toContain('no ProvenanceModule is initialised');
    expect(payments.calls).toBe(0);
  });

  it('with two live gateways uses the bound one, else the session owner, else refuses', async () => {
    const strict = newGateway({
      policy: { name: 's', rules: [{ action: '*', on_match: 'BLOCK', reason: 'strict' }] },
    });
    const lax = newGateway({ policy: { name: 'l', rules: [{ action: '*', on_match: 'ALLOW' }] } });
    const unbound = new Payments();
    await expect(unbound.unnamed(1)).rejects.toThrow(/2 Provenance gateways/);
    expect(unbound.calls).toBe(0);

    await expect(lax.runInSession(undefined, () => unbound.unnamed(1))).resolves.toBe(2);
    await expect(strict.runInSession(undefined, () => unbound.unnamed(1))).rejects.toBeInstanceOf(
      PolicyBlockedError,
    );

    const bound = new Payments();
    GatewayRegistry.bind(bound, strict);
    // The instance's own app decides, even inside the other gateway's session.
    await expect(lax.runInSession(undefined, () => bound.unnamed(1))).rejects.toThrow('strict');
    expect(bound.calls).toBe(0);
  });

  it('records a nested session only in the inner session', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const outer = gateway.session('sess_outer');
    const inner = gateway.session('sess_inner');
    await gateway.runInSession(outer, async () => {
      await payments.unnamed(1);
      await gateway.runInSession(inner, () => payments.unnamed(2));
      await payments.unnamed(3);
    });
    expect(outer.results.map((r) => r.toolResult)).toEqual([2, 6]);
    expect(inner.results.map((r) => r.toolResult)).toEqual([4]);
    expect(inner.results[0].sessionId).toBe('sess_inner');
  });
});

describe('@Guarded on an Observable-returning method', () => {
  it('is cold: nothing is decided or run until subscribed', async () => {
    const gateway = newGateway();
    const payments = new Payments();
    const session = gateway.session();
    const stream = gateway.runInSession(session, () => payments.numbers(3));
    await new Promise((resolve) => setImmediate(resolve));
    expect(session.results).toHaveLength(0);
    expect(payments.calls).toBe(0);
    // Subscribed outside runInSession: the call still belongs to the session it was made in.
    const values = await lastValueFrom(stream.pipe(toArray()));
    expect(values).toEqual([1, 2, 3]);
    expect(payments.calls).toBe(1);
    expect(session.results).toHaveLength(1);
    expect(session.results[0].toolResult).toBe(3);
  });

  it('errors with PolicyBlockedError on BLOCK without running the body', async () => {
    newGateway();
    const payments = new Payments();
    await expect(lastValueFrom(payments.blockedStream())).rejects.toBeInstanceOf(
      PolicyBlockedError,
    );
    expect(payments.calls).toBe(0);
  });

  it('completes empty on BLOCK with raiseOnBlock: false', async () => {
    newGateway();
    const payments = new Payments();
    const values = await lastValueFrom(payments.quietStream().pipe(toArray()));
    expect(values).toEqual([]);
    expect(payments.calls).toBe(0);
  });

  it("follows { returns: 'observable' } for a method that does not declare its type", async () => {
    newGateway();
    const payments = new Payments();
    const stream = payments.undeclaredStream();
    expect(stream).toBeInstanceOf(Observable);
    expect(await lastValueFrom(stream.pipe(toArray()))).toEqual(['a', 'b']);
  });

  it('delivers the no-gateway error to the subscriber, without running the body', async () => {
    const payments = new Payments();
    const stream = payments.numbers(1);
    await expect(lastValueFrom(stream)).rejects.toBeInstanceOf(ProvenanceError);
    expect(payments.calls).toBe(0);
  });
});

describe('@Guarded keeps what other decorators and tools see', () => {
  const Meta =
    (key: string, value: unknown): MethodDecorator =>
    (_t, _k, descriptor) => {
      Reflect.defineMetadata(key, value, descriptor.value as object);
    };

  class Decorated {
    @Meta('after', 'outer')
    @Guarded('x.y')
    @Meta('before', 'inner')
    async handler(a: number, b: number) {
      return a + b;
    }
  }

  it('copies metadata set before it and keeps metadata set after it', () => {
    const fn = Decorated.prototype.handler;
    expect(Reflect.getMetadata('before', fn)).toBe('inner');
    expect(Reflect.getMetadata('after', fn)).toBe('outer');
    expect(getGuardedMetadata(fn)).toMatchObject({
      action: 'x.y',
      where: 'Decorated.handler',
      returns: 'promise',
    });
  });

  it('keeps the name and length of the original', () => {
    expect(Decorated.prototype.handler.name).toBe('handler');
    expect(Decorated.prototype.handler.length).toBe(2);
  });
});

describe('@Guarded refuses at class definition what it cannot guard', () => {
  it('a getter', () => {
    expect(() => {
      class G {
        // @ts-expect-error a getter is not a method
        @Guarded('x')
        get value() {
          return Promise.resolve(1);
        }
      }
      return G;
    }).toThrow(/can only decorate a method.*G\.value/);
  });

  it('a method whose return kind cannot be told', () => {
    expect(() => {
      class U {
        @Guarded('x')
        load() {
          return Promise.resolve(1) as any;
        }
      }
      return U;
    }).toThrow(/cannot tell whether U\.load returns/);
  });

  it('a second @Guarded on the same method', () => {
    expect(() => {
      class D {
        @Guarded('a')
        @Guarded('b')
        async act() {}
      }
      return D;
    }).toThrow(/already @Guarded/);
  });

  it('bad options, naming the option', () => {
    const attempt = (options: unknown) => () => {
      class O {
        @Guarded('a', options as any)
        async act() {}
      }
      return O;
    };
    expect(attempt({ raiseOnBlock: 'no' })).toThrow(ProvenanceConfigError);
    expect(attempt({ raiseOnBlock: 'no' })).toThrow(/raiseOnBlock.*O\.act/);
    expect(attempt({ sessionId: 'has space' })).toThrow(/sessionId/);
    expect(attempt({ decision: 'allow' })).toThrow(/decision/);
    expect(attempt({ retries: 2 })).toThrow(/retries/);
    expect(() => Guarded('')).not.toThrow();
    expect(() => {
      class E {
        @Guarded('  ')
        async act() {}
      }
      return E;
    }).toThrow(/non-empty string/);
  });
});

describe('gateway.guard()(fn) for code outside Nest', () => {
  it('gates a plain function, names its parameters, returns a Promise even for a sync body', async () => {
    const gateway = newGateway();
    let runs = 0;
    const initiate = gateway.guard('payments.initiate')(function pay(
      amount: number,
      currency: string,
    ) {
      runs++;
      return `${amount} ${currency}`;
    });
    const session = gateway.session();
    await expect(gateway.runInSession(session, () => initiate(10, 'GBP'))).resolves.toBe('10 GBP');
    await expect(gateway.runInSession(session, () => initiate(101, 'GBP'))).rejects.toBeInstanceOf(
      PolicyBlockedError,
    );
    expect(runs).toBe(1);
    expect(session.results.map((r: ExecutionResult) => r.decision)).toEqual(['ALLOW', 'BLOCK']);
    expect(session.results[0].toolResult).toBe('10 GBP');
    expect(initiate.name).toBe('pay');
    expect(initiate.length).toBe(2);
  });

  it('reads parameter names of the wrapped function', async () => {
    const gateway = newGateway();
    const send = gateway.guard('review.mail')(
      async (to: string, _cc: string, template = 'x') => to + template,
    );
    const seen = await parametersOf(gateway, () => send('a@b.c', 'hidden', 'welcome'));
    expect(seen.parameters).toEqual({ to: 'a@b.c', template: 'welcome' });
  });

  it('refuses a missing action and bad options at once', () => {
    const gateway = newGateway();
    expect(() => gateway.guard('')).toThrow(ProvenanceError);
    expect(() => gateway.guard('a', { raiseOnBlock: 1 as never })).toThrow(/raiseOnBlock/);
  });
});
