import 'reflect-metadata';
import { Module, type INestApplicationContext, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { filter, firstValueFrom } from 'rxjs';
import {
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type NotifyTarget,
  type PolicyDocument,
} from '../../../lib';
import { WebhookReceiver, type Responder } from '../../fixtures/webhook-receiver.fixture';

const SECRET = 'whsec_e2e_0123456789abcdef';

const policy: PolicyDocument = {
  name: 'webhooks-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'large payments need a human',
    },
  ],
};

/** Every line the library logs, to check what it says (and that it never says the secret). */
class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (m: unknown) => void this.lines.push(String(m));
  warn = (m: unknown) => void this.lines.push(String(m));
  error = (m: unknown) => void this.lines.push(String(m));
  debug = (m: unknown) => void this.lines.push(String(m));
}

async function boot(
  notify: NotifyTarget[],
  logger: RecordingLogger,
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-webhooks',
        policy,
        audit: { store: 'memory' },
        tenantId: 'acme',
        escalationTimeout: 20_000,
        notify,
        logger,
      }),
    ],
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

describe('escalation webhooks (notify) from a Nest app with the embedded gateway', () => {
  let receiver: WebhookReceiver | null = null;
  let app: INestApplicationContext | null = null;
  let logger: RecordingLogger;

  async function start(respond: Responder, target: Partial<NotifyTarget> = {}) {
    receiver = await WebhookReceiver.start(SECRET, respond);
    logger = new RecordingLogger();
    app = await boot([{ url: receiver.url, secret: SECRET, ...target }], logger);
    return {
      receiver,
      gateway: app.get(ProvenanceGateway),
      reviewer: app.get(ProvenanceReviewer),
    };
  }

  /** Starts an escalating call; resolves with its id once it is held, and the call itself. */
  async function escalate(gateway: ProvenanceGateway) {
    const pending = firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === 'pending')));
    const call = gateway.execute('payments.initiate', { amount: 800, currency: 'GBP' });
    return { escalationId: (await pending).escalationId, call };
  }

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    expect(logger.lines.join('\n')).not.toContain(SECRET);
    app = null;
    receiver = null;
  });

  it('posts pending, then approved, each signed so that verifyWebhookSignature accepts it', async () => {
    const { receiver, gateway, reviewer } = await start(() => 200);
    const { escalationId, call } = await escalate(gateway);
    await reviewer.approve(escalationId, { approverId: 'carol', reason: 'checked with the CFO' });
    expect((await call).allowed).toBe(true);

    const [pending, approved] = await receiver.waitFor(2);
    expect([pending.body.type, approved.body.type]).toEqual(['pending', 'approved']);
    expect(pending.verified && approved.verified).toBe(true);
    expect(pending.body).toMatchObject({
      escalationId,
      tenant: 'acme',
      action: 'payments.initiate',
      parameters: { amount: 800, currency: 'GBP' },
      agentId: 'agent-webhooks',
      decidedAt: null,
    });
    expect(approved.body).toMatchObject({ escalationId, approverId: 'carol', tenant: 'acme' });
    expect(approved.body.decidedAt).toEqual(expect.any(String));
    for (const hook of [pending, approved]) {
      expect(hook.headers['content-type']).toBe('application/json');
      expect(hook.headers['provenance-delivery']).toBe(hook.body.deliveryId);
      expect(hook.headers['provenance-event']).toBe(`escalation.${hook.body.type}`);
      expect(hook.headers['provenance-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    }
    expect(pending.body.deliveryId).not.toBe(approved.body.deliveryId);
    // The receiver has answered; the sender counts once it has read the answer.
    while (gateway.webhookStats()[0].delivered < 2) await new Promise((r) => setTimeout(r, 10));
    expect(gateway.webhookStats()).toEqual([
      expect.objectContaining({ delivered: 2, failed: 0, dropped: 0, queued: 0 }),
    ]);
  });

  it('retries a receiver that answers 500 twice, then 200: delivered once, same delivery id', async () => {
    const { receiver, gateway, reviewer } = await start((n) => (n < 2 ? 500 : 200), {
      events: ['pending'],
    });
    const { escalationId, call } = await escalate(gateway);
    const attempts = await receiver.waitFor(3);
    while (gateway.webhookStats()[0].delivered === 0) await new Promise((r) => setTimeout(r, 10));
    await reviewer.reject(escalationId, { approverId: 'carol', reason: 'not today' });
    await expect(call).rejects.toThrow();

    expect(attempts.map((a) => a.body.type)).toEqual(['pending', 'pending', 'pending']);
    expect(new Set(attempts.map((a) => a.body.deliveryId)).size).toBe(1);
    expect(attempts.every((a) => a.verified)).toBe(true);
    expect(gateway.webhookStats()[0]).toMatchObject({ delivered: 1, failed: 0 });
    // `events: ['pending']`: the rejection is not sent.
    await app!.close();
    expect(receiver.received).toHaveLength(3);
  });

  it('never delays a decision: the call resolves while the receiver still holds the pending post open', async () => {
    const { receiver, gateway, reviewer } = await start(() => 'hold', { timeout: 60_000 });
    const { escalationId, call } = await escalate(gateway);
    await receiver.waitFor(1);
    await reviewer.approve(escalationId, { approverId: 'carol' });
    const result = await call;

    expect(result.allowed).toBe(true);
    // The pending post is still unanswered, and the approved one waits behind it.
    expect(receiver.held).toHaveLength(1);
    expect(receiver.received.map((r) => r.body.type)).toEqual(['pending']);
    expect(gateway.webhookStats()[0]).toMatchObject({ delivered: 0, queued: 1 });

    // close() gives the receiver a short while, then gives up on it (and says so).
    await app!.close();
    expect(
      logger.lines.some((l) => /2 delivery\(ies\) not made before the gateway closed/.test(l)),
    ).toBe(true);
  });
});
