import { filter, firstValueFrom, take, toArray, type Observable } from 'rxjs';
import {
  EscalationNotFoundError,
  EscalationRejectedError,
  EscalationTimeoutError,
  ProvenanceGateway,
  ProvenanceReviewer,
  type EscalationEvent,
  type EscalationRecord,
  type ExecutionResult,
} from '../../../lib';
import { startServer, TEST_POLICY, type Reviewer, type TestServer } from '../server/server.helpers';

/**
 * One contract, two transports: the escalation lifecycle must look the same
 * through `escalations$`, `pendingEscalationEvents()` and the reviewer
 * whether the engine runs in this process or behind our gateway server over
 * HTTP (the async-escalation extension). Only what the contract promises is
 * asserted; nothing here knows which transport it talks to.
 */
interface Setup {
  gateway: ProvenanceGateway;
  /** Lists and watches what waits for a human. */
  reviewer: ProvenanceReviewer;
  /** Decides as `principal`: over HTTP, a client with that reviewer's own key (an agent key cannot decide). */
  reviewerAs(principal: Reviewer): ProvenanceReviewer;
  /** The reviewer over the agent's own gateway, for `escalations$` (the steps of the calls it raised). */
  watcher: ProvenanceReviewer;
  close(): Promise<void>;
}

const HOLD_MS = 400;
const AGENT = 'contract-agent';

const setups: Array<[string, () => Promise<Setup>]> = [
  [
    'embedded engine',
    async () => {
      const gateway = new ProvenanceGateway({
        agentId: AGENT,
        policy: TEST_POLICY,
        audit: { store: 'memory' },
        escalationTimeout: HOLD_MS,
      });
      const reviewer = new ProvenanceReviewer(gateway, { pollInterval: 20 });
      return {
        gateway,
        reviewer,
        reviewerAs: () => reviewer,
        watcher: reviewer,
        close: () => gateway.close(),
      };
    },
  ],
  [
    'HTTP transport to our gateway server',
    async () => {
      const server: TestServer = await startServer('express', { escalationTimeoutMs: HOLD_MS });
      const gateway = new ProvenanceGateway({
        gatewayUrl: server.url,
        apiKey: server.apiKey,
        agentId: AGENT,
        timeout: 5_000,
      });
      const consoles = new Map<
        Reviewer,
        { client: ProvenanceGateway; reviewer: ProvenanceReviewer }
      >();
      const reviewerAs = (principal: Reviewer): ProvenanceReviewer => {
        let found = consoles.get(principal);
        if (found === undefined) {
          const client = new ProvenanceGateway({
            gatewayUrl: server.url,
            apiKey: server.reviewerKeys[principal],
            agentId: 'review-console',
            timeout: 5_000,
          });
          found = { client, reviewer: new ProvenanceReviewer(client, { pollInterval: 20 }) };
          consoles.set(principal, found);
        }
        return found.reviewer;
      };
      return {
        gateway,
        reviewer: reviewerAs('alice'),
        reviewerAs,
        watcher: new ProvenanceReviewer(gateway, { pollInterval: 20 }),
        close: async () => {
          for (const { client } of consoles.values()) await client.close();
          await gateway.close();
          await server.close();
        },
      };
    },
  ],
];

function next(stream: Observable<EscalationEvent>, type: EscalationEvent['type']) {
  return firstValueFrom(stream.pipe(filter((event) => event.type === type)));
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function listed(records: EscalationRecord[], id: string): EscalationRecord | undefined {
  return records.find((record) => record.id === id);
}

describe.each(setups)('escalation lifecycle contract: %s', (_name, setUp) => {
  let s: Setup;
  beforeEach(async () => {
    s = await setUp();
  });
  afterEach(async () => {
    await s.close();
  });

  it('pending, then approved: the same steps in escalations$, the pending lists and the reviewer', async () => {
    const steps = s.gateway.escalations$.pipe(take(2), toArray());
    const stepsDone = firstValueFrom(steps);
    const pendingSeen = next(s.gateway.escalations$, 'pending');
    const call = s.gateway.execute('payments.initiate', { amount: 500 }, { sessionId: 'sess-c1' });

    const pending = await pendingSeen;
    expect(pending).toMatchObject({
      type: 'pending',
      action: 'payments.initiate',
      agentId: AGENT,
      sessionId: 'sess-c1',
      parameters: { amount: 500 },
      approverId: null,
      decidedAt: null,
    });
    expect(typeof pending.createdAt).toBe('string');
    const id = pending.escalationId;

    expect(s.gateway.pendingEscalationEvents().map((event) => event.escalationId)).toEqual([id]);
    const record = listed(await s.reviewer.pending(), id);
    expect(record).toMatchObject({ id, status: 'PENDING', action: 'payments.initiate' });
    const live = await firstValueFrom(
      s.reviewer.pending$.pipe(filter((records) => listed(records, id) !== undefined)),
    );
    expect(listed(live, id)?.status).toBe('PENDING');

    // A late subscriber is told what is still pending first.
    const late = await firstValueFrom(s.watcher.escalations$);
    expect(late).toMatchObject({ type: 'pending', escalationId: id });

    await s.reviewerAs('alice').approve(id, { approverId: 'alice', reason: 'looks fine' });
    const result: ExecutionResult = await call;
    expect(result).toMatchObject({ decision: 'ALLOW', escalationId: id, actorHumanId: 'alice' });

    const [first, last] = await stepsDone;
    expect(first).toMatchObject({ type: 'pending', escalationId: id });
    expect(last).toMatchObject({
      type: 'approved',
      escalationId: id,
      action: 'payments.initiate',
      sessionId: 'sess-c1',
      approverId: 'alice',
    });
    expect(typeof last.decidedAt).toBe('string');
    expect(s.gateway.pendingEscalationEvents()).toEqual([]);
    expect(listed(await s.reviewer.pending(), id)).toBeUndefined();
    await firstValueFrom(
      s.reviewer.pending$.pipe(filter((records) => listed(records, id) === undefined)),
    );
    // Decided once: a second decision finds nothing to decide.
    expect(await rejectionOf(s.reviewerAs('bob').reject(id, { approverId: 'bob' }))).toBeInstanceOf(
      EscalationNotFoundError,
    );
  });

  it('pending, then rejected: the caller gets EscalationRejectedError and the step names the rejecter', async () => {
    const pendingSeen = next(s.gateway.escalations$, 'pending');
    const ended = next(s.gateway.escalations$, 'rejected');
    const call = rejectionOf(s.gateway.execute('payments.initiate', { amount: 900 }));
    const { escalationId } = await pendingSeen;
    await s.reviewerAs('bob').reject(escalationId, { approverId: 'bob', reason: 'too much' });
    const error = await call;
    expect(error).toBeInstanceOf(EscalationRejectedError);
    expect(error).toMatchObject({ escalationId });
    expect(await ended).toMatchObject({ type: 'rejected', escalationId, approverId: 'bob' });
    expect(s.gateway.pendingEscalationEvents()).toEqual([]);
  });

  it('pending, then expired at the deadline: EscalationTimeoutError and an expired step', async () => {
    const pendingSeen = next(s.gateway.escalations$, 'pending');
    const ended = next(s.gateway.escalations$, 'expired');
    const call = rejectionOf(s.gateway.execute('payments.initiate', { amount: 700 }));
    const { escalationId } = await pendingSeen;
    const error = await call;
    expect(error).toBeInstanceOf(EscalationTimeoutError);
    expect(await ended).toMatchObject({ type: 'expired', escalationId, approverId: null });
    expect(s.gateway.pendingEscalationEvents()).toEqual([]);
    expect(listed(await s.reviewer.pending(), escalationId)).toBeUndefined();
  });

  it('an unknown escalation id is EscalationNotFoundError for approve and reject', async () => {
    expect(
      await rejectionOf(
        s.reviewerAs('alice').approve('no-such-escalation', { approverId: 'alice' }),
      ),
    ).toBeInstanceOf(EscalationNotFoundError);
    expect(
      await rejectionOf(
        s.reviewerAs('alice').reject('no-such-escalation', { approverId: 'alice' }),
      ),
    ).toBeInstanceOf(EscalationNotFoundError);
  });

  it('a caller that stops waiting withdraws its escalation: a withdrawn step, nothing left to approve', async () => {
    const pendingSeen = next(s.gateway.escalations$, 'pending');
    const withdrawnSeen = next(s.gateway.escalations$, 'withdrawn');
    const sub = s.gateway
      .execute$('payments.initiate', { amount: 800 })
      .subscribe({ error: () => undefined });
    const { escalationId } = await pendingSeen;
    sub.unsubscribe();
    expect(await withdrawnSeen).toMatchObject({
      type: 'withdrawn',
      escalationId,
      approverId: null,
    });
    expect(s.gateway.pendingEscalationEvents()).toEqual([]);
    // The gateway itself no longer holds it (over HTTP, once the withdraw request arrived).
    await firstValueFrom(
      s.reviewer.pending$.pipe(filter((records) => listed(records, escalationId) === undefined)),
    );
    expect(
      await rejectionOf(s.reviewerAs('alice').approve(escalationId, { approverId: 'alice' })),
    ).toBeInstanceOf(EscalationNotFoundError);
  });

  it("a rejection's own reason reaches the caller as approverReason", async () => {
    const pendingSeen = next(s.gateway.escalations$, 'pending');
    const call = rejectionOf(s.gateway.execute('payments.initiate', { amount: 950 }));
    const { escalationId } = await pendingSeen;
    await s
      .reviewerAs('bob')
      .reject(escalationId, { approverId: 'bob', reason: 'Not this quarter' });
    const error = await call;
    expect(error).toBeInstanceOf(EscalationRejectedError);
    expect(error).toMatchObject({ approverReason: 'Not this quarter', actorHumanId: 'bob' });
  });

  it('escalations$ completes when the gateway closes', async () => {
    const completed = firstValueFrom(s.gateway.escalations$.pipe(toArray()));
    await s.gateway.close();
    expect(await completed).toEqual([]);
  });
});
