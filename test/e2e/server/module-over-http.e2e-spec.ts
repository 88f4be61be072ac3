import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import {
  ApprovalForbiddenError,
  EscalationRejectedError,
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
  ProvenanceGateway,
  ProvenanceModule,
  type EscalationEvent,
  type ExecutionResult,
  type ProvenanceModuleOptions,
} from '../../../lib';
import { ProvenanceReviewer } from '../../../lib/escalation/provenance.reviewer';
import { call, eventually, startServer, type Reviewer, type TestServer } from './server.helpers';

const AGENT = 'agent-over-http';

async function boot(
  server: TestServer,
  options: Partial<ProvenanceModuleOptions> = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        gatewayUrl: server.url,
        agentId: AGENT,
        apiKey: server.apiKey,
        timeout: 5_000,
        reviewer: { pollInterval: 25 },
        ...options,
      }),
    ],
  })
  class AgentModule {}
  return NestFactory.createApplicationContext(AgentModule, { logger: false, abortOnError: false });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('ProvenanceModule (HTTP transport) against our gateway server', () => {
  let server: TestServer;
  let app: INestApplicationContext;
  let gateway: ProvenanceGateway;
  /** The review side: a client of its own with a reviewer key (the agent's key cannot review). */
  let reviewer: ProvenanceReviewer;
  let consoles: Map<Reviewer, { gateway: ProvenanceGateway; reviewer: ProvenanceReviewer }>;

  /** A reviewer client with the reviewer key of `principal`, who it decides as. */
  function reviewerAs(principal: Reviewer): ProvenanceReviewer {
    let found = consoles.get(principal);
    if (found === undefined) {
      const client = new ProvenanceGateway({
        gatewayUrl: server.url,
        apiKey: server.reviewerKeys[principal],
        agentId: 'review-console',
        timeout: 5_000,
      });
      found = { gateway: client, reviewer: new ProvenanceReviewer(client, { pollInterval: 25 }) };
      consoles.set(principal, found);
    }
    return found.reviewer;
  }

  beforeEach(async () => {
    server = await startServer('express');
    app = await boot(server);
    gateway = app.get(ProvenanceGateway);
    consoles = new Map();
    reviewer = reviewerAs('cfo');
  });
  afterEach(async () => {
    for (const { gateway: client } of consoles.values()) await client.close();
    await app.close();
    await server.close();
  });

  it("the agent's own module reviewer is refused: it cannot list nor approve (403)", async () => {
    const own = app.get(ProvenanceReviewer);
    const held = gateway.execute('payments.initiate', { amount: 950 });
    const [record] = await firstValueFrom(reviewer.pending$.pipe(filter((l) => l.length > 0)));
    const listed = await rejection(own.pending());
    expect(listed).toBeInstanceOf(GatewayError);
    expect(listed).toMatchObject({ kind: 'status', status: 403 });
    const approved = await rejection(own.approve(record.id, { approverId: 'cfo@example.com' }));
    expect(approved).toBeInstanceOf(ApprovalForbiddenError);
    expect(String((approved as Error).message)).not.toContain(server.apiKey);
    expect((await reviewer.pending()).map((r) => r.id)).toEqual([record.id]);
    await reviewerAs('cfo').reject(record.id, { approverId: 'cfo' });
    expect(await rejection(held)).toBeInstanceOf(EscalationRejectedError);
  });

  it('allow and block', async () => {
    const allowed = await gateway.execute('payments.initiate', { amount: 20 });
    expect(allowed).toMatchObject({
      decision: 'ALLOW',
      reason: 'Small payments are fine',
      eventId: expect.any(String),
    });
    const blocked = await rejection(gateway.execute('data.delete', { table: 'users' }));
    expect(blocked).toBeInstanceOf(PolicyBlockedError);
    expect(blocked).toMatchObject({
      reason: 'Deleting data is not allowed',
      eventId: expect.any(String),
    });
  });

  it('execute$ emits the escalated result at once (202), then ALLOW after an approval over decide', async () => {
    const results: ExecutionResult[] = [];
    const done = lastValueFrom(
      gateway.execute$('payments.initiate', { amount: 900 }).pipe(toArray()),
    );
    const sub = gateway
      .execute$('payments.initiate', { amount: 901 })
      .subscribe((r) => results.push(r));
    // Both calls are held; the early events name their escalation ids before anyone decides.
    const pending = await eventually(async () => {
      const list = await reviewer.pending();
      return list.length === 2 ? list : undefined;
    });
    await eventually(async () => (results.length === 1 ? true : undefined));
    expect(results[0]).toMatchObject({
      decision: 'ESCALATE',
      escalated: true,
      escalationId: expect.any(String),
    });
    const mine = pending.find((record) => record.id === results[0].escalationId);
    expect(mine).toMatchObject({ action: 'payments.initiate', agentId: AGENT, status: 'PENDING' });
    for (const record of pending)
      await reviewerAs('cfo').approve(record.id, { approverId: 'cfo', reason: 'ok' });
    const all = await done;
    expect(all.map((r) => r.decision)).toEqual(['ESCALATE', 'ALLOW']);
    expect(all[1]).toMatchObject({
      actorHumanId: 'cfo',
      reason: 'Escalation APPROVED by cfo',
      escalationId: all[0].escalationId,
    });
    await eventually(async () => (results.length === 2 ? true : undefined));
    sub.unsubscribe();
  });

  it('escalations$ emits pending before approved/rejected, each with the session id', async () => {
    const events: EscalationEvent[] = [];
    const subscription = gateway.escalations$.subscribe((event) => events.push(event));
    const session = gateway.session('sess_stream_order');
    const approved = session.execute('payments.initiate', { amount: 300 });
    const rejected = session.execute('payments.initiate', { amount: 400 });
    const records = await eventually(async () => {
      const list = await reviewer.pending();
      return list.length === 2 ? list : undefined;
    });
    const byAmount = (amount: number) =>
      events.find((e) => e.type === 'pending' && e.parameters?.amount === amount)!.escalationId;
    await eventually(async () => (events.length === 2 ? true : undefined));
    await reviewerAs('alice').approve(byAmount(300), { approverId: 'alice' });
    await reviewerAs('bob').reject(byAmount(400), { approverId: 'bob', reason: 'too much' });
    await approved;
    expect(await rejection(rejected)).toBeInstanceOf(EscalationRejectedError);
    subscription.unsubscribe();

    expect(records.map((r) => r.id).sort()).toEqual([byAmount(300), byAmount(400)].sort());
    for (const id of [byAmount(300), byAmount(400)]) {
      const own = events.filter((e) => e.escalationId === id);
      expect(own.map((e) => e.type)).toEqual([
        'pending',
        id === byAmount(300) ? 'approved' : 'rejected',
      ]);
      for (const event of own) expect(event.sessionId).toBe('sess_stream_order');
    }
    const approval = events.find((e) => e.type === 'approved')!;
    expect(approval).toMatchObject({
      approverId: 'alice',
      agentId: AGENT,
      action: 'payments.initiate',
      decidedAt: expect.any(String),
      createdAt: expect.any(String),
    });
  });

  it('the held path (asyncEscalation: false) still works, only without the early event', async () => {
    await app.close();
    app = await boot(server, { asyncEscalation: false });
    gateway = app.get(ProvenanceGateway);
    const results = lastValueFrom(
      gateway.execute$('payments.initiate', { amount: 700 }).pipe(toArray()),
    );
    const [record] = await firstValueFrom(
      reviewer.pending$.pipe(filter((list) => list.length === 1)),
    );
    // Approved through HTTP while the agent's request is held open.
    await reviewerAs('ops').approve(record.id, { approverId: 'ops' });
    const all = await results;
    expect(all.map((r) => r.decision)).toEqual(['ALLOW']);
    expect(all[0]).toMatchObject({ escalationId: record.id, actorHumanId: 'ops' });
  });

  it('a timed-out escalation raises EscalationTimeoutError (reference text), over both paths', async () => {
    await app.close();
    await server.close();
    server = await startServer('express', { escalationTimeoutMs: 200 });
    for (const asyncEscalation of [true, false]) {
      app = await boot(server, { asyncEscalation });
      gateway = app.get(ProvenanceGateway);
      const error = await rejection(gateway.execute('payments.initiate', { amount: 1_000 }));
      expect(error).toBeInstanceOf(EscalationTimeoutError);
      expect(error).toMatchObject({
        reason: 'Escalation TIMEOUT — action blocked',
        escalationId: expect.any(String),
      });
      await app.close();
    }
    app = await boot(server);
  });

  it('a wrong key is a GatewayError 401 whose message does not contain the key', async () => {
    await app.close();
    const wrongKey = `pk_test_${'Z'.repeat(43)}`;
    app = await boot(server, { apiKey: wrongKey });
    gateway = app.get(ProvenanceGateway);
    const error = await rejection(gateway.execute('email.send', {}));
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ kind: 'status', status: 401 });
    expect(String((error as Error).message)).not.toContain(wrongKey);
    expect(JSON.stringify(error)).not.toContain(wrongKey);
  });

  it('an idempotent retry returns the first answer: one decision event, the retry audited as a replay', async () => {
    const first = await gateway.execute(
      'email.send',
      { to: 'x@example.com' },
      { idempotencyKey: 'retry-1' },
    );
    const second = await gateway.execute(
      'email.send',
      { to: 'x@example.com' },
      { idempotencyKey: 'retry-1' },
    );
    expect(second.eventId).toBe(first.eventId);
    const audit = await call(server, 'GET', `/v1/audit/${server.tenantId}`);
    expect(
      audit.body.events.filter((e: any) => e.action === 'email.send').map((e: any) => e.kind),
    ).toEqual(['decision', 'decision.replayed']);
  });

  it('reviewer: unknown or already resolved ids raise EscalationNotFoundError', async () => {
    const { EscalationNotFoundError } = await import('../../../lib/protocol/provenance.errors');
    await expect(reviewerAs('a').approve('no-such-id', { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
    const held = gateway.execute('payments.initiate', { amount: 555 });
    const [record] = await firstValueFrom(
      reviewer.pending$.pipe(
        filter((l) => l.length > 0),
        take(1),
      ),
    );
    await reviewerAs('a').reject(record.id, { approverId: 'a' });
    await expect(held).rejects.toBeInstanceOf(EscalationRejectedError);
    await expect(reviewerAs('a').approve(record.id, { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
  });
});
