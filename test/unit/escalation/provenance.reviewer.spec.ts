import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import {
  EscalationNotFoundError,
  EscalationRejectedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../../lib/protocol/provenance.errors';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';
import { escalationsWithPending$ } from '../../../lib/escalation/escalation.streams';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import type { EscalationRecord } from '../../../lib/protocol/gateway.types';
import {
  startReferenceGateway,
  type ReferenceGateway,
} from '../../fixtures/reference-gateway.fixture';

const policy: PolicyDocument = {
  name: 'reviewer',
  rules: [{ action: 'payments.*', on_match: 'ESCALATE', reason: 'a human decides payments' }],
};

function embedded(tenantId?: string): ProvenanceGateway {
  return new ProvenanceGateway({
    agentId: 'agent-r',
    policy,
    audit: { store: 'memory' },
    escalationTimeout: 5_000,
    tenantId,
    logger: { log() {}, warn() {}, error() {} },
  });
}

describe('ProvenanceReviewer on the embedded gateway', () => {
  let gateway: ProvenanceGateway;
  beforeEach(() => {
    gateway = embedded();
  });
  afterEach(() => gateway.close());

  it('pending$ starts with the current list and follows every change, without polling', async () => {
    const reviewer = new ProvenanceReviewer(gateway, { pollInterval: 1 });
    const lists: EscalationRecord[][] = [];
    const subscription = reviewer.pending$.subscribe((list) => lists.push(list));
    expect(lists).toEqual([[]]);
    const first = gateway.execute('payments.initiate', { amount: 1 });
    const second = gateway.execute('payments.refund', { amount: 2 });
    await firstValueFrom(reviewer.pending$.pipe(filter((list) => list.length === 2)));
    expect(lists.map((list) => list.length)).toEqual([0, 1, 2]);
    const [a, b] = lists[2];
    expect(a).toMatchObject({
      action: 'payments.initiate',
      status: 'PENDING',
      tenantId: 'local',
      sessionId: expect.any(String),
    });
    expect(b.action).toBe('payments.refund');

    expect(await reviewer.approve(a.id, { approverId: 'alice', reason: 'fine' })).toEqual({
      escalationId: a.id,
      decision: 'APPROVE',
      approverId: 'alice',
      reason: 'fine',
    });
    await reviewer.reject(b.id, { approverId: 'bob' });
    await expect(first).resolves.toMatchObject({ decision: 'ALLOW', actorHumanId: 'alice' });
    await expect(second).rejects.toBeInstanceOf(EscalationRejectedError);
    expect(lists.map((list) => list.map((r) => r.id))).toEqual([
      [],
      [a.id],
      [a.id, b.id],
      [b.id],
      [],
    ]);
    subscription.unsubscribe();
    expect(await reviewer.pending()).toEqual([]);
  });

  it('late subscribers share the last list; pending$ completes when the gateway closes', async () => {
    const reviewer = new ProvenanceReviewer(gateway);
    const held = gateway.execute('payments.initiate', {}).catch((error: unknown) => error);
    const early = reviewer.pending$.subscribe();
    await firstValueFrom(reviewer.pending$.pipe(filter((list) => list.length === 1)));
    const late = await firstValueFrom(reviewer.pending$);
    expect(late).toHaveLength(1);
    const all = lastValueFrom(reviewer.pending$.pipe(toArray()));
    await gateway.close();
    // Completes (lastValueFrom resolves) once the gateway is closed; a new subscriber completes at once.
    expect((await all).length).toBeGreaterThanOrEqual(1);
    expect(early.closed).toBe(true);
    await expect(lastValueFrom(reviewer.pending$.pipe(toArray()))).resolves.toEqual([]);
    expect(await held).toBeInstanceOf(ProvenanceError);
  });

  it('unknown and already resolved ids raise EscalationNotFoundError; bad input is refused before anything is sent', async () => {
    const reviewer = new ProvenanceReviewer(gateway);
    await expect(reviewer.approve('nope', { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
    const held = gateway.execute('payments.initiate', {});
    const [record] = await firstValueFrom(reviewer.pending$.pipe(filter((l) => l.length === 1)));
    await reviewer.approve(record.id, { approverId: 'a' });
    await held;
    await expect(reviewer.reject(record.id, { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
    await expect(reviewer.approve(record.id, { approverId: '' })).rejects.toThrow(/approverId/);
    await expect(reviewer.approve('', { approverId: 'a' })).rejects.toThrow(/escalation id/);
    await expect(reviewer.approve('x', { approverId: 'a', reason: 5 as never })).rejects.toThrow(
      /reason/,
    );
  });

  it('tenantId filters the list', async () => {
    const other = new ProvenanceReviewer(gateway, { tenantId: 'someone-else' });
    const own = new ProvenanceReviewer(gateway, { tenantId: 'local' });
    const held = gateway.execute('payments.initiate', {});
    const [record] = await firstValueFrom(own.pending$.pipe(filter((l) => l.length === 1)));
    expect(await other.pending()).toEqual([]);
    await own.approve(record.id, { approverId: 'a' });
    await held;
  });

  it('rejects bad options, naming them', () => {
    expect(() => new ProvenanceReviewer(gateway, { pollInterval: 0 })).toThrow(
      ProvenanceConfigError,
    );
    expect(() => new ProvenanceReviewer(gateway, { pollInterval: 1.5 })).toThrow(
      /reviewer\.pollInterval/,
    );
    expect(() => new ProvenanceReviewer(gateway, { tenantId: '' })).toThrow(/reviewer\.tenantId/);
  });

  it('escalationsWithPending$ / reviewer.escalations$: a late subscriber first sees what is still pending', async () => {
    const reviewer = new ProvenanceReviewer(gateway);
    const held = gateway.execute('payments.initiate', { amount: 3 }, { sessionId: 'sess_late' });
    await firstValueFrom(gateway.escalations$);
    const seen = firstValueFrom(reviewer.escalations$.pipe(take(2), toArray()));
    const alsoSeen = firstValueFrom(escalationsWithPending$(gateway).pipe(take(1)));
    const pendingId = (await alsoSeen).escalationId;
    await reviewer.approve(pendingId, { approverId: 'z' });
    await held;
    const events = await seen;
    expect(events.map((e) => [e.type, e.escalationId, e.sessionId])).toEqual([
      ['pending', pendingId, 'sess_late'],
      ['approved', pendingId, 'sess_late'],
    ]);
  });
});

describe('ProvenanceReviewer against a remote gateway (polling)', () => {
  let remote: ReferenceGateway;
  let gateway: ProvenanceGateway;

  beforeEach(async () => {
    remote = await startReferenceGateway({
      policy: (body) => (body.action.startsWith('payments.') ? 'ESCALATE' : 'ALLOW'),
    });
    gateway = new ProvenanceGateway({
      gatewayUrl: remote.url,
      apiKey: remote.apiKey,
      agentId: 'agent-remote',
      timeout: 5_000,
      logger: { log() {}, warn() {}, error() {} },
    });
  });
  afterEach(async () => {
    await gateway.close();
    await remote.close();
  });

  it('polls GET /v1/escalations/pending with tenant_id every pollInterval, emits only changes, stops on unsubscribe', async () => {
    const reviewer = new ProvenanceReviewer(gateway, {
      pollInterval: 20,
      tenantId: remote.tenantId,
    });
    const lists: EscalationRecord[][] = [];
    const subscription = reviewer.pending$.subscribe((list) => lists.push(list));
    await firstValueFrom(reviewer.pending$);
    const held = gateway.execute('payments.initiate', { amount: 9 });
    const [record] = await firstValueFrom(reviewer.pending$.pipe(filter((l) => l.length === 1)));
    expect(record).toMatchObject({
      action: 'payments.initiate',
      tenantId: remote.tenantId,
      status: 'PENDING',
    });
    await reviewer.approve(record.id, { approverId: 'remote-cfo' });
    await expect(held).resolves.toMatchObject({ decision: 'ALLOW', actorHumanId: 'remote-cfo' });
    await firstValueFrom(reviewer.pending$.pipe(filter((l) => l.length === 0)));
    subscription.unsubscribe();

    const polls = remote.requests.filter((r) => r.path === '/v1/escalations/pending');
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(polls.every((r) => r.query.tenant_id === remote.tenantId)).toBe(true);
    // Unchanged answers are not re-emitted: [] → [record] → [].
    expect(lists.map((l) => l.length)).toEqual([0, 1, 0]);
    const after = polls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(remote.requests.filter((r) => r.path === '/v1/escalations/pending')).toHaveLength(after);
  });

  it('an unknown id is EscalationNotFoundError (the server’s 404)', async () => {
    const reviewer = new ProvenanceReviewer(gateway, { tenantId: remote.tenantId });
    await expect(reviewer.reject('missing', { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
  });
});
