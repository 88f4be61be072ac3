import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { filter, firstValueFrom } from 'rxjs';
import { ProvenanceError } from '../../../lib/protocol/provenance.errors';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import {
  ADAPTERS,
  CapturingLogger,
  PaymentsController,
  PaymentsService,
  RoleGuard,
  Unmanaged,
  blockEverything,
  bootApp,
  getJson,
  postJson,
} from './guarded-app.fixture';

const SESSION_ID = /^sess_[0-9a-f]{16}$/;

describe.each(ADAPTERS)('@Guarded in a Nest app on %s', (adapter) => {
  let app: INestApplication;
  let url: string;
  let gateway: ProvenanceGateway;
  let payments: PaymentsService;
  let controller: PaymentsController;

  beforeAll(async () => {
    ({ app, url } = await bootApp({ adapter, provenance: { escalationTimeout: 10_000 } }));
    gateway = app.get(ProvenanceGateway);
    payments = app.get(PaymentsService);
    controller = app.get(PaymentsController);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    payments.calls = 0;
    controller.handlerCalls = 0;
    controller.forbiddenCalls = 0;
  });

  it('ALLOW runs the controller handler and the service body once each', async () => {
    const res = await postJson(`${url}/pay`, { amount: 50, currency: 'GBP', recipientId: 'rec_1' });
    expect(res.status).toBe(201);
    expect(res.body.paid).toEqual({ paid: 50, currency: 'GBP', recipientId: 'rec_1' });
    expect(controller.handlerCalls).toBe(1);
    expect(payments.calls).toBe(1);
    // Both calls are recorded in the request's session when decided; the
    // handler's toolResult is only known after it returns, so it is not shown yet.
    expect(res.body.results).toEqual([
      { action: 'http.pay', decision: 'ALLOW', sessionId: res.body.sessionId, actorHumanId: null },
      {
        action: 'payments.initiate',
        decision: 'ALLOW',
        sessionId: res.body.sessionId,
        actorHumanId: null,
        toolResult: { paid: 50, currency: 'GBP', recipientId: 'rec_1' },
      },
    ]);
    expect(res.headers.get('x-provenance-session')).toBe(res.body.sessionId);
    expect(res.body.sessionId).toMatch(SESSION_ID);
  });

  it('audits the handler arguments by name, without the @Req() request', async () => {
    const sessionId = `sess_audit_${adapter}`;
    await postJson(
      `${url}/pay`,
      { amount: 7, currency: 'EUR', recipientId: 'rec_7' },
      { 'X-Provenance-Session': sessionId },
    );
    const events = await gateway.audit!.list({ sessionId });
    const byAction = Object.fromEntries(events.map((e) => [e.action, e.parameters]));
    expect(byAction['http.pay']).toEqual({
      body: { amount: 7, currency: 'EUR', recipientId: 'rec_7' },
    });
    expect(byAction['payments.initiate']).toEqual({
      amount: 7,
      currency: 'EUR',
      recipientId: 'rec_7',
    });
  });

  it('BLOCK in a service never runs its body and answers 403 with the decision', async () => {
    const res = await postJson(`${url}/pay`, {
      amount: 500,
      currency: 'GBP',
      recipientId: 'rec_1',
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      statusCode: 403,
      decision: 'BLOCK',
      action: 'payments.initiate',
      reason: 'over the limit',
    });
    expect(typeof res.body.eventId).toBe('string');
    expect(payments.calls).toBe(0);
    expect(controller.handlerCalls).toBe(1);
  });

  it('BLOCK on a controller handler never runs it', async () => {
    const res = await getJson(`${url}/forbidden`);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      decision: 'BLOCK',
      action: 'http.forbidden',
      reason: 'this route is closed',
    });
    expect(controller.forbiddenCalls).toBe(0);
    // The header is set before the handler runs, so the refusal carries it too.
    expect(res.headers.get('x-provenance-session')).toMatch(SESSION_ID);
  });

  it('an approved escalation runs the body, with the approver recorded', async () => {
    const pending = firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
    const request = postJson(`${url}/pay`, {
      amount: 5000,
      currency: 'GBP',
      recipientId: 'rec_big',
    });
    const event = await pending;
    expect(event.action).toBe('payments.initiate');
    expect(event.parameters).toEqual({ amount: 5000, currency: 'GBP', recipientId: 'rec_big' });
    expect(payments.calls).toBe(0);
    await gateway.gatewayTransport.decide(event.escalationId, 'APPROVE', { approverId: 'alice' });
    const res = await request;
    expect(res.status).toBe(201);
    expect(payments.calls).toBe(1);
    expect(res.body.results[1]).toMatchObject({
      action: 'payments.initiate',
      decision: 'ALLOW',
      actorHumanId: 'alice',
    });
  });

  it('a rejected escalation never runs the body and answers 403', async () => {
    const pending = firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
    const request = postJson(`${url}/pay`, {
      amount: 7000,
      currency: 'GBP',
      recipientId: 'rec_no',
    });
    const event = await pending;
    await gateway.gatewayTransport.decide(event.escalationId, 'REJECT', {
      approverId: 'bob',
      reason: 'no',
    });
    const res = await request;
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      decision: 'BLOCK',
      action: 'payments.initiate',
      escalationId: event.escalationId,
    });
    expect(payments.calls).toBe(0);
  });

  it('keeps the metadata of other decorators: a guard reads it through Reflector', async () => {
    const guard = app.get(RoleGuard);
    guard.seen.length = 0;
    await postJson(`${url}/pay`, { amount: 1, currency: 'GBP', recipientId: 'r' });
    await getJson(`${url}/forbidden`);
    expect(guard.seen).toEqual(['payer', 'anyone']);
  });

  it('keeps what Swagger reads: the route and its ApiOperation', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(document.paths['/pay']?.post?.summary).toBe('Pay someone');
    expect(document.paths['/pay']?.post?.operationId).toBe('PaymentsController_pay');
    expect(document.paths['/forbidden']?.get).toBeDefined();
  });

  it('gates a class Nest does not manage, inside a request, under that request', async () => {
    Unmanaged.calls = 0;
    const res = await getJson(`${url}/unmanaged?what=laundry`, {
      'X-Provenance-Session': 'sess_unmanaged',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      done: 'did laundry',
      sessionId: 'sess_unmanaged',
      recorded: ['unmanaged.act'],
    });
    expect(Unmanaged.calls).toBe(1);
  });

  it('gates a class Nest does not manage inside runInSession', async () => {
    Unmanaged.calls = 0;
    const session = gateway.session('sess_worker');
    const done = await gateway.runInSession(session, () => new Unmanaged().act('job'));
    expect(done).toBe('did job');
    expect(session.results.map((r) => [r.action, r.sessionId, r.toolResult])).toEqual([
      ['unmanaged.act', 'sess_worker', 'did job'],
    ]);
  });
});

describe.each(ADAPTERS)('two Nest apps in one process on %s', (adapter) => {
  let lax: { app: INestApplication; url: string };
  let strict: { app: INestApplication; url: string };

  beforeAll(async () => {
    lax = await bootApp({ adapter, filter: 'new' });
    strict = await bootApp({ adapter, filter: 'new', provenance: { policy: blockEverything } });
  });

  afterAll(async () => {
    await Promise.all([lax.app.close(), strict.app.close()]);
  });

  it('each app decides for its own requests', async () => {
    const body = { amount: 10, currency: 'GBP', recipientId: 'r' };
    const [a, b] = await Promise.all([
      postJson(`${lax.url}/pay`, body),
      postJson(`${strict.url}/pay`, body),
    ]);
    expect(a.status).toBe(201);
    expect(b.status).toBe(403);
    expect(b.body).toMatchObject({ decision: 'BLOCK', reason: 'strict app', action: 'http.pay' });
    expect(strict.app.get(PaymentsController).handlerCalls).toBe(0);
  });

  it("each app's services use their own gateway outside any request", async () => {
    const laxPayments = lax.app.get(PaymentsService);
    const strictPayments = strict.app.get(PaymentsService);
    strictPayments.calls = 0;
    await expect(laxPayments.initiate(10, 'GBP', 'r')).resolves.toMatchObject({ paid: 10 });
    await expect(strictPayments.initiate(10, 'GBP', 'r')).rejects.toThrow('strict app');
    expect(strictPayments.calls).toBe(0);
  });

  it('an unmanaged object follows the session it runs in, and refuses to guess outside one', async () => {
    Unmanaged.calls = 0;
    const laxGateway = lax.app.get(ProvenanceGateway);
    const strictGateway = strict.app.get(ProvenanceGateway);
    await expect(new Unmanaged().act('x')).rejects.toThrow(ProvenanceError);
    await expect(laxGateway.runInSession(undefined, () => new Unmanaged().act('x'))).resolves.toBe(
      'did x',
    );
    await expect(
      strictGateway.runInSession(undefined, () => new Unmanaged().act('x')),
    ).rejects.toThrow('strict app');
    expect(Unmanaged.calls).toBe(1);
  });
});

describe('the explorer', () => {
  it('warns once, naming it, about a request-scoped provider it cannot bind', async () => {
    const { Injectable, Module, Scope, Controller, Get } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const { ProvenanceModule } = await import('../../../lib/module/provenance.module');
    const { Guarded } = await import('../../../lib/guarded/guarded.decorator');
    const { policy } = await import('./guarded-app.fixture');

    @Injectable({ scope: Scope.REQUEST })
    class PerRequestService {
      @Guarded('per.request')
      async act() {
        return 'per-request ran';
      }
    }
    @Controller()
    class PerRequestController {
      constructor(private readonly service: PerRequestService) {}
      @Get('per-request')
      act() {
        return this.service.act();
      }
    }
    const logger = new CapturingLogger();
    @Module({
      imports: [
        ProvenanceModule.forRoot({
          agentId: 'agent-test',
          policy,
          audit: { store: 'memory' },
          logger,
        }),
      ],
      controllers: [PerRequestController],
      providers: [PerRequestService],
    })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      // Besides the policy coverage line (the policy has no rule for its action; its own test is
      // test/e2e/embedded/startup-report.e2e-spec.ts), one warning names the provider.
      const warnings = logger.lines.filter(
        (l) => l.level === 'warn' && !l.message.startsWith('Policy coverage:'),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toContain('PerRequestService');
      expect(warnings[0].message).toContain('request-scoped');
      // It still works: the request's session names its gateway.
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const res = await fetch(`${url}/per-request`);
      expect(await res.text()).toBe('per-request ran');
    } finally {
      await app.close();
    }
  });
});
