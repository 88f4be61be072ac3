import {
  EscalationError,
  EscalationNotFoundError,
  ProvenanceConfigError,
} from '../../../../lib/protocol/provenance.errors';
import {
  EscalationHolds,
  type HoldEvent,
  type HoldOutcome,
  type HoldTicket,
} from '../../../../lib/engine/escalation/escalation-holds';

const ticket = (id: string, over: Partial<HoldTicket> = {}): HoldTicket => ({
  escalationId: id,
  tenantId: 'local',
  agentId: 'agent-1',
  sessionId: 'sess_1',
  action: 'payments.initiate',
  parameters: { amount: 5000 },
  parametersHash: 'h'.repeat(64),
  reason: 'large payment',
  ...over,
});

describe('EscalationHolds', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('holds a call until approved, binding the outcome to the parameters hash', async () => {
    const holds = new EscalationHolds();
    const events: HoldEvent[] = [];
    holds.onEvent((event) => events.push(event));
    const outcome = holds.hold(ticket('e1'), 60_000);
    expect(holds.pending()).toEqual([
      expect.objectContaining({ id: 'e1', status: 'PENDING', parametersHash: 'h'.repeat(64) }),
    ]);
    expect(holds.approve('e1', { approverId: 'alice', reason: 'fine' })).toMatchObject({
      status: 'approved',
      approverId: 'alice',
    });
    await expect(outcome).resolves.toMatchObject({
      escalationId: 'e1',
      status: 'approved',
      approverId: 'alice',
      reason: 'fine',
      parametersHash: 'h'.repeat(64),
    });
    expect(events.map((e) => `${e.type}:${e.record.status}`)).toEqual([
      'pending:PENDING',
      'approved:APPROVED',
    ]);
    expect(holds.pending()).toEqual([]);
    expect(holds.get('e1')).toMatchObject({ status: 'APPROVED', approverId: 'alice' });
    holds.close();
  });

  it('rejects, and refuses unknown or already-ended ids with EscalationNotFoundError', async () => {
    const holds = new EscalationHolds();
    const outcome = holds.hold(ticket('e2'), 60_000);
    holds.reject('e2', { approverId: 'bob' });
    await expect(outcome).resolves.toMatchObject({
      status: 'rejected',
      approverId: 'bob',
      reason: null,
    });
    expect(() => holds.approve('e2', { approverId: 'x' })).toThrow(EscalationNotFoundError);
    expect(() => holds.reject('nope', { approverId: 'x' })).toThrow(EscalationNotFoundError);
    await expect(holds.hold(ticket('e2'), 1000)).rejects.toThrow(EscalationError);
    holds.close();
  });

  it('expires at the deadline, and leaves no timer after any ending', async () => {
    jest.useFakeTimers();
    const holds = new EscalationHolds();
    const expiring = holds.hold(ticket('t1'), 5_000);
    const approved = holds.hold(ticket('t2'), 5_000);
    expect(jest.getTimerCount()).toBe(2);
    holds.approve('t2', { approverId: 'a' });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(4_999);
    expect(holds.size).toBe(1);
    jest.advanceTimersByTime(1);
    await expect(expiring).resolves.toMatchObject({
      status: 'expired',
      approverId: null,
      reason: null,
    });
    await expect(approved).resolves.toMatchObject({ status: 'approved' });
    expect(jest.getTimerCount()).toBe(0);
    expect(holds.get('t1')?.status).toBe('TIMEOUT');
  });

  it("ends every pending hold as expired ('gateway closed') on close, and later holds at once", async () => {
    jest.useFakeTimers();
    const holds = new EscalationHolds();
    const a = holds.hold(ticket('c1'), 60_000);
    const b = holds.hold(ticket('c2'), 60_000);
    holds.close();
    expect(jest.getTimerCount()).toBe(0);
    await expect(a).resolves.toMatchObject({ status: 'expired', reason: 'gateway closed' });
    await expect(b).resolves.toMatchObject({ status: 'expired', reason: 'gateway closed' });
    await expect(holds.hold(ticket('c3'), 60_000)).resolves.toMatchObject({ status: 'expired' });
    holds.close();
  });

  it('refuses a timeout setTimeout cannot honour', async () => {
    const holds = new EscalationHolds();
    for (const bad of [0, -1, 1.5, NaN, 2 ** 31]) {
      await expect(holds.hold(ticket(`bad${bad}`), bad)).rejects.toThrow(ProvenanceConfigError);
    }
    expect(holds.size).toBe(0);
  });

  it('ends each of 1000 holds exactly once when approve, reject and the timer race', async () => {
    const holds = new EscalationHolds();
    const endings = new Map<string, number>();
    holds.onEvent((event) => {
      if (event.type !== 'pending')
        endings.set(event.record.id, (endings.get(event.record.id) ?? 0) + 1);
    });
    const wins = new Map<string, string>();
    const outcomes: Array<Promise<HoldOutcome>> = [];
    const racers: Array<Promise<void>> = [];
    const attempt = (id: string, what: 'approve' | 'reject', delay: number) =>
      new Promise<void>((resolve) => {
        setTimeout(() => {
          try {
            holds[what](id, { approverId: what });
            expect(wins.has(id)).toBe(false);
            wins.set(id, what);
          } catch (error) {
            expect(error).toBeInstanceOf(EscalationNotFoundError);
          }
          resolve();
        }, delay);
      });
    for (let i = 0; i < 1000; i++) {
      const id = `r${i}`;
      outcomes.push(holds.hold(ticket(id), 5 + (i % 10)));
      racers.push(attempt(id, 'approve', i % 13), attempt(id, 'reject', i % 11));
    }
    const results = await Promise.all(outcomes);
    await Promise.all(racers);
    expect(endings.size).toBe(1000);
    expect([...endings.values()].every((count) => count === 1)).toBe(true);
    results.forEach((outcome, i) => {
      const id = `r${i}`;
      const expected =
        wins.get(id) === 'approve'
          ? 'approved'
          : wins.get(id) === 'reject'
            ? 'rejected'
            : 'expired';
      expect(outcome.status).toBe(expected);
    });
    expect(holds.size).toBe(0);
  });

  it('keeps a throwing listener from stopping a hold', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const holds = new EscalationHolds();
    const unsubscribe = holds.onEvent(() => {
      throw new Error('listener bug');
    });
    const outcome = holds.hold(ticket('l1'), 60_000);
    holds.approve('l1', { approverId: 'a' });
    await expect(outcome).resolves.toMatchObject({ status: 'approved' });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('listener bug'));
    unsubscribe();
    warn.mockRestore();
    holds.close();
  });
});
