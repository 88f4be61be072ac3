import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ProvenanceGateway } from '../../../lib/gateway/provenance.gateway';
import {
  ADAPTERS,
  CapturingLogger,
  PaymentsService,
  bootApp,
  postJson,
} from '../guarded/guarded-app.fixture';

const FRESH_ID = /^sess_[0-9a-f]{16}$/;

describe.each(ADAPTERS)('per-request sessions on %s', (adapter) => {
  let app: INestApplication;
  let url: string;
  let gateway: ProvenanceGateway;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    ({ app, url } = await bootApp({ adapter, logger }));
    gateway = app.get(ProvenanceGateway);
  });

  afterAll(async () => {
    await app.close();
  });

  const pay = (amount: number, headers: Record<string, string> = {}) =>
    postJson(`${url}/pay`, { amount, currency: 'GBP', recipientId: `rec_${amount}` }, headers);

  it('takes a well-formed id from the header and sends it back', async () => {
    const res = await pay(1, { 'X-Provenance-Session': 'checkout:flow-1.A_b' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-provenance-session')).toBe('checkout:flow-1.A_b');
    expect(res.body.sessionId).toBe('checkout:flow-1.A_b');
    expect(res.body.results.map((r: { sessionId: string }) => r.sessionId)).toEqual([
      'checkout:flow-1.A_b',
      'checkout:flow-1.A_b',
    ]);
  });

  it('matches the header name case-insensitively', async () => {
    const res = await pay(1, { 'x-provenance-SESSION': 'sess_lower' });
    expect(res.headers.get('X-Provenance-Session')).toBe('sess_lower');
  });

  it.each([
    ['a space', 'bad id'],
    ['markup', '<script>alert(1)</script>'],
    ['129 characters', `s${'x'.repeat(128)}`],
    ['a header-splitting attempt', 'sess_1%0d%0aSet-Cookie:x'],
  ])('ignores an ill-formed id (%s) and never echoes it', async (_label, bad) => {
    const res = await pay(1, { 'X-Provenance-Session': bad });
    expect(res.status).toBe(201);
    const id = res.headers.get('x-provenance-session');
    expect(id).toMatch(FRESH_ID);
    expect(res.body.sessionId).toBe(id);
    expect(JSON.stringify(res.body)).not.toContain(bad);
  });

  it('opens a fresh session for a request without the header, a new one each time', async () => {
    const [a, b] = await Promise.all([pay(1), pay(2)]);
    const idA = a.headers.get('x-provenance-session');
    const idB = b.headers.get('x-provenance-session');
    expect(idA).toMatch(FRESH_ID);
    expect(idB).toMatch(FRESH_ID);
    expect(idA).not.toBe(idB);
  });

  it('logs one summary line when the response ends, counting the blocked call', async () => {
    logger.lines.length = 0;
    const res = await pay(500, { 'X-Provenance-Session': 'sess_summary' });
    expect(res.status).toBe(403);
    const summaries = logger.lines.filter((l) => l.message.startsWith('session sess_summary'));
    // http.pay allowed, payments.initiate blocked: worked out from the policy by hand.
    expect(summaries.map((l) => l.message)).toEqual([
      'session sess_summary: 2 call(s), 1 allowed, 1 blocked, 0 escalated',
    ]);
  });

  it('200 concurrent requests each see exactly their own results and audit parameters', async () => {
    const count = 200;
    const ids = Array.from({ length: count }, (_, i) => `sess_c${adapter}${i}`);
    const responses = await Promise.all(
      ids.map((id, i) => pay(i % 100, { 'X-Provenance-Session': id })),
    );
    responses.forEach((res, i) => {
      expect(res.status).toBe(201);
      expect(res.headers.get('x-provenance-session')).toBe(ids[i]);
      expect(res.body.sessionId).toBe(ids[i]);
      expect(res.body.results).toEqual([
        { action: 'http.pay', decision: 'ALLOW', sessionId: ids[i], actorHumanId: null },
        {
          action: 'payments.initiate',
          decision: 'ALLOW',
          sessionId: ids[i],
          actorHumanId: null,
          toolResult: { paid: i % 100, currency: 'GBP', recipientId: `rec_${i % 100}` },
        },
      ]);
    });
    for (let i = 0; i < count; i++) {
      const events = await gateway.audit!.list({ sessionId: ids[i] });
      expect(events.map((e) => [e.action, e.parameters])).toEqual([
        ['http.pay', { body: { amount: i % 100, currency: 'GBP', recipientId: `rec_${i % 100}` } }],
        ['payments.initiate', { amount: i % 100, currency: 'GBP', recipientId: `rec_${i % 100}` }],
      ]);
    }
  });

  it("outside any request a singleton's call falls back to defaultSession", async () => {
    const payments = app.get(PaymentsService);
    expect(gateway.currentSession()).toBeUndefined();
    await payments.initiate(1, 'GBP', 'r');
    const events = await gateway.audit!.list({ sessionId: gateway.defaultSessionId });
    expect(events.map((e) => e.action)).toContain('payments.initiate');
  });
});

describe.each(ADAPTERS)('session header options on %s', (adapter) => {
  it('uses a custom header name', async () => {
    const { app, url } = await bootApp({
      adapter,
      provenance: { sessionHeader: 'X-Trace-Session' },
    });
    try {
      const res = await postJson(
        `${url}/pay`,
        { amount: 1, currency: 'GBP', recipientId: 'r' },
        { 'X-Trace-Session': 'sess_custom', 'X-Provenance-Session': 'sess_ignored' },
      );
      expect(res.headers.get('x-trace-session')).toBe('sess_custom');
      expect(res.headers.get('x-provenance-session')).toBeNull();
      expect(res.body.sessionId).toBe('sess_custom');
    } finally {
      await app.close();
    }
  });

  it('sessionHeader: false opens no session per request', async () => {
    const { app, url } = await bootApp({ adapter, provenance: { sessionHeader: false } });
    try {
      const res = await postJson(
        `${url}/pay`,
        { amount: 1, currency: 'GBP', recipientId: 'r' },
        { 'X-Provenance-Session': 'sess_unused' },
      );
      expect(res.status).toBe(201);
      expect(res.headers.get('x-provenance-session')).toBeNull();
      expect(res.body.sessionId).toBeNull();
      const gateway = app.get(ProvenanceGateway);
      const events = await gateway.audit!.list({ sessionId: gateway.defaultSessionId });
      expect(events.map((e) => e.action)).toEqual(['http.pay', 'payments.initiate']);
    } finally {
      await app.close();
    }
  });
});

describe('sessions outside HTTP', () => {
  let app: INestApplication;
  let gateway: ProvenanceGateway;

  beforeAll(async () => {
    ({ app } = await bootApp({ adapter: 'express' }));
    gateway = app.get(ProvenanceGateway);
  });

  afterAll(async () => {
    await app.close();
  });

  it('a session opened inside another replaces it for the inner callback only', async () => {
    const payments = app.get(PaymentsService);
    const outer = gateway.session('sess_outer_job');
    const inner = gateway.session('sess_inner_job');
    const seen: Array<string | undefined> = [];
    await gateway.runInSession(outer, async () => {
      await payments.initiate(1, 'GBP', 'a');
      await gateway.runInSession(inner, async () => {
        seen.push(gateway.currentSession()?.id);
        await payments.initiate(2, 'GBP', 'b');
      });
      seen.push(gateway.currentSession()?.id);
      await payments.initiate(3, 'GBP', 'c');
    });
    expect(seen).toEqual(['sess_inner_job', 'sess_outer_job']);
    expect(outer.results.map((r) => (r.toolResult as { paid: number }).paid)).toEqual([1, 3]);
    expect(inner.results.map((r) => (r.toolResult as { paid: number }).paid)).toEqual([2]);
    expect(outer.isClosed).toBe(true);
    expect(inner.isClosed).toBe(true);
  });
});
