import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EscalationEvent } from '../../../lib';
import { resolveNotifyTargets, type NotifyTarget } from '../../../lib/notify/notify-options';
import { backoffDelay } from '../../../lib/notify/webhook-delivery';
import { WebhookDispatcher } from '../../../lib/notify/webhook-dispatcher';
import { WebhookQueue } from '../../../lib/notify/webhook-queue';
import { WebhookReceiver, type Responder } from '../../fixtures/webhook-receiver.fixture';

const SECRET = 'whsec_unit_0123456789abcdef';

function event(escalationId: string, type: EscalationEvent['type'] = 'pending'): EscalationEvent {
  return {
    type,
    escalationId,
    action: 'payments.initiate',
    parameters: { amount: 800 },
    agentId: 'agent',
    sessionId: 'sess_1',
    createdAt: new Date().toISOString(),
    decidedAt: null,
    approverId: null,
    reason: null,
  };
}

describe('WebhookDispatcher against a real receiver', () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m) };
  let receiver: WebhookReceiver | null = null;
  let dispatcher: WebhookDispatcher | null = null;

  async function start(respond: Responder, target: Partial<NotifyTarget> = {}, capacity = 1000) {
    receiver = await WebhookReceiver.start(SECRET, respond);
    const [resolved] = resolveNotifyTargets([{ url: receiver.url, secret: SECRET, ...target }]);
    dispatcher = new WebhookDispatcher(
      resolved,
      { tenant: 't1', logger },
      { queueCapacity: capacity, baseDelayMs: 20, maxDelayMs: 100 },
    );
    return { receiver, dispatcher };
  }

  async function until(test: () => boolean): Promise<void> {
    while (!test()) await new Promise((r) => setTimeout(r, 5));
  }

  afterEach(async () => {
    await dispatcher?.close(100);
    await receiver?.close();
    expect(warnings.join('\n')).not.toContain(SECRET);
    warnings.length = 0;
  });

  it('drops the oldest when the queue is full, counts it and says so', async () => {
    const { receiver, dispatcher } = await start(() => 200, {}, 2);
    // Enqueued in one go: the sender starts only after the caller's code returns.
    for (const id of ['esc_1', 'esc_2', 'esc_3', 'esc_4']) dispatcher.enqueue(event(id));
    expect(dispatcher.stats()).toMatchObject({ dropped: 2, queued: 2 });
    await until(() => dispatcher.stats().delivered === 2);
    expect(receiver.received.map((r) => r.body.escalationId)).toEqual(['esc_3', 'esc_4']);
    expect(warnings.filter((w) => /queue full/.test(w))).toHaveLength(2); // at 1 and 2 dropped
    expect(warnings[0]).toMatch(/dropped the oldest delivery \(1 dropped so far\)/);
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    const { receiver, dispatcher } = await start(() => 400);
    dispatcher.enqueue(event('esc_1'));
    await until(() => dispatcher.stats().failed === 1);
    expect(receiver.received).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/refused \(answered 400\); not retried/)]);
  });

  it('retries 429, then gives up after maxAttempts, each attempt signed afresh and valid', async () => {
    const { receiver, dispatcher } = await start(() => 429, { maxAttempts: 3 });
    dispatcher.enqueue(event('esc_1'));
    await until(() => dispatcher.stats().failed === 1);
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/after 3 attempt\(s\): answered 429/)]);
  });

  it('sends the user and password of a URL as HTTP Basic credentials', async () => {
    const { receiver } = await start(() => 200);
    const [target] = resolveNotifyTargets([
      { url: receiver.url.replace('http://', 'http://bob:hunter%232@'), secret: SECRET },
    ]);
    const withCredentials = new WebhookDispatcher(target, { tenant: 't1', logger });
    withCredentials.enqueue(event('esc_1'));
    await until(() => withCredentials.stats().delivered === 1);
    await withCredentials.close(100);
    const basic = Buffer.from('bob:hunter#2').toString('base64');
    expect(receiver.received[0].headers.authorization).toBe(`Basic ${basic}`);
    expect(withCredentials.stats().url).not.toMatch(/bob|hunter/);
  });

  it('gives one step of one escalation the same delivery id everywhere (retries, replicas)', async () => {
    const { receiver, dispatcher } = await start(() => 200);
    const [target] = resolveNotifyTargets([{ url: receiver.url, secret: SECRET }]);
    const replica = new WebhookDispatcher(target, { tenant: 't1', logger });
    const otherTenant = new WebhookDispatcher(target, { tenant: 't2', logger });
    dispatcher.enqueue(event('esc_1'));
    await until(() => dispatcher.stats().delivered === 1);
    replica.enqueue(event('esc_1'));
    await until(() => replica.stats().delivered === 1);
    dispatcher.enqueue(event('esc_1', 'approved'));
    await until(() => dispatcher.stats().delivered === 2);
    otherTenant.enqueue(event('esc_1'));
    await until(() => otherTenant.stats().delivered === 1);
    await Promise.all([replica.close(100), otherTenant.close(100)]);
    const ids = receiver.received.map((r) => r.body.deliveryId);
    expect(ids[0]).toMatch(/^whd_[0-9a-f]{24}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
  });

  it('sends only the events a target asks for', async () => {
    const { receiver, dispatcher } = await start(() => 200, { events: ['approved', 'rejected'] });
    dispatcher.enqueue(event('esc_1', 'pending'));
    dispatcher.enqueue(event('esc_1', 'rejected'));
    await until(() => dispatcher.stats().delivered === 1);
    expect(receiver.received.map((r) => r.body.type)).toEqual(['rejected']);
  });
});

describe('a receiver that is down', () => {
  it('is retried on connection errors, and its URL is logged without credentials', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const warnings: string[] = [];
    const [target] = resolveNotifyTargets([
      {
        url: `http://bob:hunter2@127.0.0.1:${port}/hook?token=t0k`,
        secret: SECRET,
        maxAttempts: 2,
      },
    ]);
    const dispatcher = new WebhookDispatcher(
      target,
      { tenant: null, logger: { warn: (m) => void warnings.push(m) } },
      { baseDelayMs: 10 },
    );
    dispatcher.enqueue(event('esc_1'));
    while (dispatcher.stats().failed === 0) await new Promise((r) => setTimeout(r, 5));
    await dispatcher.close(100);
    expect(warnings).toEqual([expect.stringMatching(/after 2 attempt\(s\): ECONNREFUSED/)]);
    expect(warnings[0]).toContain(`http://***@127.0.0.1:${port}/hook?***`);
    expect(warnings[0]).not.toMatch(/hunter2|t0k|bob/);
  });
});

describe('WebhookQueue and backoffDelay', () => {
  it('keeps the newest items up to its capacity', () => {
    const queue = new WebhookQueue<number>(3);
    const dropped = [1, 2, 3, 4, 5].map((n) => queue.push(n));
    expect(dropped).toEqual([null, null, null, { dropped: 1 }, { dropped: 2 }]);
    expect(queue.dropped).toBe(2);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      3,
      4,
      5,
      undefined,
    ]);
  });

  it('doubles the wait per attempt, capped, between half and all of it', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 100, 10_000, () => 1))).toEqual([
      100, 200, 400, 800,
    ]);
    expect([1, 2, 3].map((a) => backoffDelay(a, 100, 10_000, () => 0))).toEqual([50, 100, 200]);
    expect(backoffDelay(20, 100, 1_000, () => 1)).toBe(1_000);
  });
});
