import type { PolicyDocument } from '../../../../lib';
import type { GatewayEvent, GatewayRequest } from '../../../../lib/protocol/gateway.types';
import {
  createEmbeddedTransport,
  EmbeddedTransport,
} from '../../../../lib/transport/embedded/embedded.transport';

const policy: PolicyDocument = {
  name: 'embedded-call',
  rules: [{ action: 'payments.initiate', on_match: 'ESCALATE', reason: 'a human decides' }],
};

function request(amount: number): GatewayRequest {
  return {
    sessionId: 'sess_0123456789abcdef',
    agentId: 'agent-1',
    action: 'payments.initiate',
    parameters: { amount },
    decision: 'BLOCK',
  };
}

describe('EmbeddedTransport.executeInto (the gateway service path, no Observable)', () => {
  let transport: EmbeddedTransport;

  beforeEach(() => {
    transport = createEmbeddedTransport({ policy, audit: { store: 'memory' } });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await transport.close();
  });

  it('is used only while execute is the transport’s own', () => {
    expect(EmbeddedTransport.direct(transport)).toBe(transport);
    jest.spyOn(transport, 'execute');
    expect(EmbeddedTransport.direct(transport)).toBeNull();
  });

  it('announces a held call, then one decided event and completion on approval', async () => {
    const events: GatewayEvent[] = [];
    let completed = 0;
    const done = new Promise<void>((resolve) => {
      transport.executeInto(request(900), {
        next: (event) => events.push(event),
        error: (error) => {
          throw error;
        },
        complete: () => {
          completed++;
          resolve();
        },
      });
    });
    while (transport.engine.pending().length === 0) await new Promise((r) => setImmediate(r));
    const [held] = transport.engine.pending();
    await transport.decide(held.id, 'APPROVE', { approverId: 'alice' });
    await done;
    expect(events.map((event) => event.type)).toEqual(['escalated', 'decided']);
    expect(events[1].type === 'decided' && events[1].response.decision).toBe('ALLOW');
    expect(completed).toBe(1);
  });

  it('withdraws a held call on unsubscribe, and tells the sink nothing after it', async () => {
    const events: GatewayEvent[] = [];
    const sink = {
      next: (e: GatewayEvent) => events.push(e),
      error: jest.fn(),
      complete: jest.fn(),
    };
    const subscription = transport.executeInto(request(901), sink);
    while (events.length === 0) await new Promise((r) => setImmediate(r));
    const escalationId = events[0].type === 'escalated' ? events[0].escalation.escalationId : '';
    subscription.unsubscribe();
    while (transport.engine.pending().length > 0) await new Promise((r) => setImmediate(r));
    expect((await transport.engine.escalation(escalationId))?.status).toBe('WITHDRAWN');
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(1);
    expect(sink.error).not.toHaveBeenCalled();
    expect(sink.complete).not.toHaveBeenCalled();
  });

  it('executeSettled: the promise is what the sink settled as, once the engine answered', async () => {
    const events: GatewayEvent[] = [];
    const sink = {
      next: (event: GatewayEvent) => events.push(event),
      error: (error: unknown) => events.push({ type: 'failed', error } as never),
      complete: jest.fn(),
      settlement: () => events.map((event) => event.type),
    };
    const answer = transport.executeSettled(request(902), sink);
    while (transport.engine.pending().length === 0) await new Promise((r) => setImmediate(r));
    const [held] = transport.engine.pending();
    await transport.decide(held.id, 'REJECT', { approverId: 'alice' });
    await expect(answer).resolves.toEqual(['escalated', 'decided']);
    expect(sink.complete).toHaveBeenCalledTimes(1);
  });

  it('executeSettled: an engine that cannot decide reaches the sink, whose settlement throws', async () => {
    jest.spyOn(transport.engine, 'executeNowOrLater').mockRejectedValue(new Error('disk full'));
    let failure: unknown;
    const sink = {
      next: jest.fn(),
      error: (error: unknown) => (failure = error),
      complete: jest.fn(),
      settlement: (): never => {
        throw failure;
      },
    };
    await expect(transport.executeSettled(request(903), sink)).rejects.toThrow(
      'The embedded gateway could not decide: disk full',
    );
    expect(sink.next).not.toHaveBeenCalled();
  });
});
