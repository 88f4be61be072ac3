import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import {
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
import { call, eventually, startServer, type TestServer } from './server.helpers';

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
  let reviewer: ProvenanceReviewer;

  beforeEach(async () => {
    server = await startServer('express');
    app = await boot(server);
    gateway = app.get(ProvenanceGateway);
    reviewer = app.get(ProvenanceReviewer);
  });
  afterEach(async () => {
    await app.close();
    await server.close();
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
      await reviewer.approve(record.id, { approverId: 'cfo', reason: 'ok' });
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
    await reviewer.approve(byAmount(300), { approverId: 'alice' });
    await reviewer.reject(byAmount(400), { approverId: 'bob', reason: 'too much' });
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
    reviewer = app.get(ProvenanceReviewer);
    const results = lastValueFrom(
      gateway.execute$('payments.initiate', { amount: 700 }).pipe(toArray()),
    );
    const [record] = await firstValueFrom(
      reviewer.pending$.pipe(filter((list) => list.length === 1)),
    );
    // Approved through HTTP while the agent's request is held open.
    await reviewer.approve(record.id, { approverId: 'ops' });
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

  it('an idempotent retry returns the first answer and writes one audit event', async () => {
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
    expect(audit.body.events.filter((e: any) => e.action === 'email.send')).toHaveLength(1);
  });

  it('reviewer: unknown or already resolved ids raise EscalationNotFoundError', async () => {
    const { EscalationNotFoundError } = await import('../../../lib/protocol/provenance.errors');
    await expect(reviewer.approve('no-such-id', { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
    const held = gateway.execute('payments.initiate', { amount: 555 });
    const [record] = await firstValueFrom(
      reviewer.pending$.pipe(
        filter((l) => l.length > 0),
        take(1),
      ),
    );
    await reviewer.reject(record.id, { approverId: 'a' });
    await expect(held).rejects.toBeInstanceOf(EscalationRejectedError);
    await expect(reviewer.approve(record.id, { approverId: 'a' })).rejects.toBeInstanceOf(
      EscalationNotFoundError,
    );
  });
});
