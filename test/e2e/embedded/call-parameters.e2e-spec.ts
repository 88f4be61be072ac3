/*
 * Call parameters are walked once, by one walker with one set of rules:
 * what the policy evaluates, what the audit log records and what is hashed
 * are the same value, through the gateway service (the embedded path) and
 * through the engine's own public API alike.
 */
import { createHash } from 'node:crypto';
import {
  AuditLog,
  InvalidParametersError,
  MAX_PARAMETER_DEPTH,
  ProvenanceEngine,
  ProvenanceGateway,
  compilePolicy,
  type GatewayRequest,
  type PolicyDocument,
} from '../../../lib';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const policy: PolicyDocument = {
  name: 'parameters',
  rules: [
    {
      action: 'pay',
      conditions: [{ field: 'amount', operator: '<', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
      reason: 'payments under 100 only',
    },
    {
      action: 'flag.set',
      conditions: [
        { field: 'on', operator: '==', value: false },
        { field: 'name', operator: '==', value: 'x' },
      ],
      on_match: 'ALLOW',
      on_violation: 'BLOCK',
      reason: 'only flag x, only off',
    },
    { action: '*', on_match: 'ALLOW' },
  ],
};

/** A parameters object `levels` containers deep, the parameters object itself being the first. */
function deep(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { bottom: true };
  for (let i = 1; i < levels; i++) value = { c: value };
  return value;
}

async function refusalOf(promise: Promise<unknown>): Promise<InvalidParametersError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidParametersError);
  return error as InvalidParametersError;
}

describe('call parameters: one walker, once per call', () => {
  let gateway: ProvenanceGateway;
  let engine: ProvenanceEngine;
  let engineAudit: AuditLog;

  const engineRequest = (action: string, parameters: unknown): GatewayRequest => ({
    sessionId: 'sess_0123456789abcdef',
    agentId: 'a',
    action,
    parameters: parameters as Record<string, unknown>,
    decision: 'BLOCK',
  });

  beforeEach(() => {
    gateway = new ProvenanceGateway({ agentId: 'a', policy, audit: { store: 'memory' } });
    engineAudit = new AuditLog();
    engine = new ProvenanceEngine({ policy: compilePolicy(policy), audit: engineAudit });
  });

  afterEach(async () => {
    await gateway.close();
    await engine.close();
  });

  describe('boxed primitives are their primitive, as in JSON.stringify', () => {
    it('new Number(5) is audited as 5 and an `amount < 100` rule ALLOWs it (gateway)', async () => {
      const result = await gateway.execute('pay', { amount: new Number(5) });
      expect(result.allowed).toBe(true);
      const [event] = await gateway.audit!.list();
      expect(event.decision).toBe('ALLOW');
      expect(event.parameters).toEqual({ amount: 5 });
      expect(event.payloadHash).toBe(sha256('{"amount":5}'));
    });

    it('new Number(5) is audited as 5 and ALLOWed through the engine API too', async () => {
      const response = await engine.execute(engineRequest('pay', { amount: new Number(5) }));
      expect(response.decision).toBe('ALLOW');
      const [event] = await engineAudit.list();
      expect(event.parameters).toEqual({ amount: 5 });
      expect(event.payloadHash).toBe(sha256('{"amount":5}'));
    });

    it('new String and new Boolean(false) too, in both places', async () => {
      const boxed = () => ({ on: new Boolean(false), name: new String('x') });
      await expect(gateway.execute('flag.set', boxed())).resolves.toMatchObject({
        allowed: true,
      });
      const response = await engine.execute(engineRequest('flag.set', boxed()));
      expect(response.decision).toBe('ALLOW');
      for (const log of [gateway.audit!, engineAudit]) {
        const [event] = await log.list();
        expect(event.parameters).toEqual({ name: 'x', on: false });
        expect(event.payloadHash).toBe(sha256('{"name":"x","on":false}'));
      }
    });

    it('the policy sees what the audit records for an engine caller with toJSON and Dates', async () => {
      const at = new Date(Date.UTC(2026, 0, 2));
      const money = { toJSON: () => 50 };
      const response = await engine.execute(engineRequest('pay', { amount: money, at }));
      expect(response.decision).toBe('ALLOW');
      const [event] = await engineAudit.list();
      expect(event.parameters).toEqual({ amount: 50, at: '2026-01-02T00:00:00.000Z' });
    });
  });

  describe('one depth limit', () => {
    it('is MAX_PARAMETER_DEPTH, 100 levels', () => {
      expect(MAX_PARAMETER_DEPTH).toBe(100);
    });

    it('a value 101 levels deep is refused the same way by execute() and by the engine', async () => {
      const viaGateway = await refusalOf(gateway.execute('tool.run', deep(101)));
      const viaEngine = await refusalOf(engine.execute(engineRequest('tool.run', deep(101))));
      const path = `$${'.c'.repeat(100)}`;
      expect(viaGateway.path).toBe(path);
      expect(viaEngine.path).toBe(path);
      expect(viaGateway.action).toBe('tool.run');
      expect(viaEngine.action).toBe('tool.run');
      for (const error of [viaGateway, viaEngine]) {
        expect(error.message).toContain(`${path} is nested more than 100 levels deep`);
      }
      expect(await gateway.audit!.count()).toBe(0);
      expect(await engineAudit.count()).toBe(0);
    });

    it('a value 100 levels deep is accepted by both, and audited whole', async () => {
      await expect(gateway.execute('tool.run', deep(100))).resolves.toMatchObject({
        allowed: true,
      });
      await expect(engine.execute(engineRequest('tool.run', deep(100)))).resolves.toMatchObject({
        decision: 'ALLOW',
      });
      for (const log of [gateway.audit!, engineAudit]) {
        const [event] = await log.list();
        expect(JSON.stringify(event.parameters)).toBe(JSON.stringify(deep(100)));
        expect((await log.verify()).valid).toBe(true);
      }
    });
  });

  describe('walked once per gated call', () => {
    afterEach(() => jest.restoreAllMocks());

    /** How many times an object carrying the probe key was enumerated (each walk enumerates it once). */
    function countWalks(): () => number {
      const keys = jest.spyOn(Object, 'keys');
      return () =>
        keys.mock.calls.filter(
          ([value]) =>
            typeof value === 'object' &&
            value !== null &&
            Object.prototype.hasOwnProperty.call(value, 'walkProbe'),
        ).length;
    }

    it('through the gateway service and the embedded engine', async () => {
      let reads = 0;
      const parameters = {
        walkProbe: true,
        get amount() {
          reads++;
          return 5;
        },
      };
      const walks = countWalks();
      await gateway.execute('pay', parameters);
      expect(walks()).toBe(1);
      expect(reads).toBe(1);
      await gateway.execute('pay', parameters);
      expect(walks()).toBe(2);
      expect(reads).toBe(2);
    });

    it('through the engine API, with an idempotency key', async () => {
      const walks = countWalks();
      const request = {
        ...engineRequest('pay', { walkProbe: true, amount: 5 }),
        idempotencyKey: 'k',
      };
      await engine.execute(request);
      expect(walks()).toBe(1);
    });

    it('an escalation records its final event from the same walk', async () => {
      const held = new ProvenanceEngine({
        policy: compilePolicy({
          name: 'hold',
          rules: [{ action: 'pay', on_match: 'ESCALATE', reason: 'a human decides' }],
        }),
        audit: new AuditLog(),
      });
      try {
        const walks = countWalks();
        let escalationId = '';
        const call = held.execute(engineRequest('pay', { walkProbe: true, amount: 5 }), {
          onEscalated: (ticket) => (escalationId = ticket.escalationId),
        });
        await waitFor(() => escalationId !== '');
        await held.decide(escalationId, 'APPROVE', { approverId: 'alice' });
        await expect(call).resolves.toMatchObject({ decision: 'ALLOW' });
        expect(walks()).toBe(1);
      } finally {
        await held.close();
      }
    });
  });

  it('a plain object cannot pass for a normalised one: the engine walks what it did not make', async () => {
    // A look-alike of a normalised value (null prototype, plain data) still gets walked and checked.
    const lookAlike = Object.assign(Object.create(null) as Record<string, unknown>, {
      amount: 5,
      bad: 10n,
    });
    const error = await refusalOf(engine.execute(engineRequest('pay', lookAlike)));
    expect(error.path).toBe('$.bad');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}
