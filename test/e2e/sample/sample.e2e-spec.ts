import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createSampleApp } from '../../../sample/sample.app';
import type { ReviewerTokens } from '../../../sample/review/reviewer-tokens';
import { DataService } from '../../../sample/tools/data.service';
import { PaymentsService } from '../../../sample/tools/payments.service';
import { baseUrl, getJson, postJson } from './sample-http';
import { SseClient } from './sse.client';

/** The sample's reviewers in these tests: token → principal. */
const REVIEWERS: ReviewerTokens = {
  'e2e-cfo-token': 'cfo@example.com',
  'e2e-alice-token': 'alice',
  'e2e-bob-token': 'bob',
};
const as = (principal: string) => ({
  Authorization: `Bearer ${Object.keys(REVIEWERS).find((t) => REVIEWERS[t] === principal)}`,
});

/**
 * The sample agent backend over real HTTP on loopback, on the embedded
 * gateway with a real audit file in a temp dir. Expected decisions and
 * reasons come from sample/policy.yml's rules and docs/policy.md's wording.
 */
describe('sample agent backend (HTTP)', () => {
  let dir: string;
  let auditFile: string;
  let app: INestApplication;
  let url: string;
  const streams: SseClient[] = [];

  const openStream = async () => {
    const stream = await SseClient.open(`${url}/review/escalations/stream`, as('alice'));
    streams.push(stream);
    return stream;
  };
  const run = (plan: unknown[], session?: string) =>
    postJson(`${url}/agent/run`, { plan }, session ? { 'X-Provenance-Session': session } : {});
  const payment = (amount: number, currency: string, recipientId = 'rec_abc123') => ({
    tool: 'payments.initiate',
    args: { amount, currency, recipientId },
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sample-e2e-'));
    auditFile = path.join(dir, 'audit.jsonl');
    app = await createSampleApp({
      audit: { store: 'file', path: auditFile },
      escalationTimeout: 30_000,
      reviewers: REVIEWERS,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a plan step by step in the request session, going on after a blocked step', async () => {
    const reply = await run(
      [
        payment(50, 'GBP'),
        { tool: 'data.delete', args: { table: 'customers', id: 'cus_42' } },
        { tool: 'shell.exec', args: { command: 'rm -rf /' } },
        { tool: 'email.send', args: { to: 'customer@example.com', template: 'receipt' } },
      ],
      'sess_e2e_plan',
    );

    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-provenance-session')).toBe('sess_e2e_plan');
    const { steps, counts, sessionId, stoppedEarly } = reply.body;
    expect(sessionId).toBe('sess_e2e_plan');
    expect(stoppedEarly).toBe(false);
    expect(steps.map((s: any) => [s.tool, s.outcome, s.decision, s.reason])).toEqual([
      ['payments.initiate', 'allowed', 'ALLOW', 'Payment within approved parameters'],
      ['data.delete', 'blocked', 'BLOCK', 'Agents may not modify stored data (data.* is blocked)'],
      ['shell.exec', 'blocked', 'BLOCK', 'Not covered by the sample policy; blocked by default'],
      ['email.send', 'allowed', 'ALLOW', 'Agents may send email'],
    ]);
    for (const step of steps) expect(step.eventId).toEqual(expect.any(String));
    expect(steps[0].result).toMatchObject({ amount: 50, currency: 'GBP', status: 'initiated' });
    expect(steps[3].result).toMatchObject({ to: 'customer@example.com', template: 'receipt' });
    expect(steps[1].result).toBeUndefined();
    expect(counts).toEqual({ allowed: 2, blocked: 2, escalated: 0 });
    // The blocked tool body never ran.
    expect(app.get(DataService).deleted).toEqual([]);
  });

  it('refuses a body that is not a plan', async () => {
    expect((await postJson(`${url}/agent/run`, { steps: [] })).status).toBe(400);
    expect((await postJson(`${url}/agent/run`, { plan: [{ args: {} }] })).status).toBe(400);
    expect((await postJson(`${url}/agent/run`, { plan: [{ tool: 'x', args: [1] }] })).status).toBe(
      400,
    );
  });

  it('streams an escalation as pending, then approved, while the agent call waits for the reviewer', async () => {
    const stream = await openStream();
    const paymentsBefore = app.get(PaymentsService).initiated.length;
    const agentCall = run([payment(800, 'GBP', 'rec_xyz789')], 'sess_e2e_approve');

    const pendingEvent = await stream.next((e) => e.event === 'pending');
    const pending = JSON.parse(pendingEvent.data);
    expect(pending).toMatchObject({
      type: 'pending',
      action: 'payments.initiate',
      parameters: { amount: 800, currency: 'GBP', recipientId: 'rec_xyz789' },
      sessionId: 'sess_e2e_approve',
      agentId: 'sample-agent',
      reason: 'Payments over 500 need human approval',
      approverId: null,
    });
    const id: string = pending.escalationId;

    // Held: nothing was paid yet, and the review API lists it.
    expect(app.get(PaymentsService).initiated.length).toBe(paymentsBefore);
    const listed = await getJson(`${url}/review/escalations/pending`, as('cfo@example.com'));
    expect(listed.body.map((r: any) => r.id)).toContain(id);
    expect(listed.body.find((r: any) => r.id === id)).toMatchObject({
      status: 'PENDING',
      action: 'payments.initiate',
    });

    const decision = await postJson(
      `${url}/review/escalations/${id}/approve`,
      { approverId: 'cfo@example.com', reason: 'Verified with CFO' },
      as('cfo@example.com'),
    );
    expect(decision.status).toBe(200);
    expect(decision.body).toEqual({
      escalationId: id,
      decision: 'APPROVE',
      approverId: 'cfo@example.com',
      reason: 'Verified with CFO',
    });

    const approved = JSON.parse((await stream.next((e) => e.event === 'approved')).data);
    expect(approved).toMatchObject({
      type: 'approved',
      escalationId: id,
      approverId: 'cfo@example.com',
    });

    const reply = await agentCall;
    expect(reply.body.steps[0]).toMatchObject({
      outcome: 'allowed',
      decision: 'ALLOW',
      reason: 'Escalation APPROVED by cfo@example.com',
      escalationId: id,
      actorHumanId: 'cfo@example.com',
      result: { amount: 800, currency: 'GBP', recipientId: 'rec_xyz789' },
    });
    expect(reply.body.counts).toEqual({ allowed: 1, blocked: 0, escalated: 1 });
    expect(
      (await getJson(`${url}/review/escalations/pending`, as('cfo@example.com'))).body.map(
        (r: any) => r.id,
      ),
    ).not.toContain(id);
  });

  it('gives a late subscriber the pending escalations first; a rejection blocks the step', async () => {
    const agentCall = run([payment(100, 'JPY', 'rec_jpy001'), payment(20, 'EUR')]);
    // Wait until it is held, without a stream: the review API says so.
    let id: string | undefined;
    for (let i = 0; i < 200 && id === undefined; i++) {
      const list = (await getJson(`${url}/review/escalations/pending`, as('alice'))).body as any[];
      id = list.find((r) => r.parameters?.recipientId === 'rec_jpy001')?.id;
      if (id === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    expect(id).toBeDefined();

    const stream = await openStream();
    const first = await stream.next();
    expect(first.event).toBe('pending');
    expect(JSON.parse(first.data)).toMatchObject({
      escalationId: id,
      reason: 'Payments in a currency other than GBP, USD or EUR need human approval',
    });

    // No reviewer token: refused. A malformed approver, or someone else's name: refused.
    const anonymous = await postJson(`${url}/review/escalations/${id}/reject`, { reason: 'no' });
    expect(anonymous.status).toBe(401);
    const badApprover = await postJson(
      `${url}/review/escalations/${id}/reject`,
      { approverId: 42, reason: 'no' },
      as('alice'),
    );
    expect(badApprover.status).toBe(400);
    const otherApprover = await postJson(
      `${url}/review/escalations/${id}/reject`,
      { approverId: 'bob', reason: 'no' },
      as('alice'),
    );
    expect(otherApprover.status).toBe(403);

    const decision = await postJson(
      `${url}/review/escalations/${id}/reject`,
      { approverId: 'alice', reason: 'JPY not authorised' },
      as('alice'),
    );
    expect(decision.status).toBe(200);
    const rejected = JSON.parse((await stream.next((e) => e.event === 'rejected')).data);
    expect(rejected).toMatchObject({ escalationId: id, approverId: 'alice' });

    const reply = await agentCall;
    expect(reply.body.steps.map((s: any) => s.outcome)).toEqual(['rejected', 'allowed']);
    expect(reply.body.steps[0]).toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation REJECT — action blocked',
      escalationId: id,
      actorHumanId: 'alice',
    });

    // Decided once: a second decision is refused.
    const again = await postJson(
      `${url}/review/escalations/${id}/approve`,
      { approverId: 'bob' },
      as('bob'),
    );
    expect(again.status).toBe(404);
    const unknown = await postJson(
      `${url}/review/escalations/esc_unknown/approve`,
      { approverId: 'bob' },
      as('bob'),
    );
    expect(unknown.status).toBe(404);
  });

  it('lists a session audit trail in order and verifies the chain, and notices an edited file', async () => {
    const trail = await getJson(`${url}/audit?session=sess_e2e_approve`);
    expect(trail.status).toBe(200);
    expect(trail.body.events.map((e: any) => [e.kind, e.decision, e.actorHumanId ?? null])).toEqual(
      [
        ['escalation.pending', 'ESCALATE', null],
        ['escalation.approved', 'ALLOW', 'cfo@example.com'],
      ],
    );
    expect(trail.body.events[0].escalationId).toBe(trail.body.events[1].escalationId);

    const plan = await getJson(`${url}/audit?session=sess_e2e_plan`);
    expect(plan.body.events.map((e: any) => [e.action, e.decision])).toEqual([
      ['payments.initiate', 'ALLOW'],
      ['data.delete', 'BLOCK'],
      ['shell.exec', 'BLOCK'],
      ['email.send', 'ALLOW'],
    ]);

    expect((await getJson(`${url}/audit`)).status).toBe(400);

    const lines = readFileSync(auditFile, 'utf8').trim().split('\n');
    const verified = await getJson(`${url}/audit/verify`);
    expect(verified.body).toMatchObject({
      valid: true,
      eventsChecked: lines.length,
      firstBrokenPosition: null,
    });

    // Someone rewrites history: the blocked deletion becomes an ALLOW.
    const position = lines.findIndex((line) => JSON.parse(line).action === 'data.delete');
    const forged = JSON.parse(lines[position]);
    forged.decision = 'ALLOW';
    lines[position] = JSON.stringify(forged);
    writeFileSync(auditFile, `${lines.join('\n')}\n`);
    const broken = await getJson(`${url}/audit/verify`);
    expect(broken.body.valid).toBe(false);
    expect(broken.body.firstBrokenPosition).toBe(position);
  });

  it('serves the review page', async () => {
    const response = await fetch(`${url}/review`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const html = await response.text();
    // No approver field any more: the page decides as whoever signed in.
    expect(html).toContain('data-testid="signed-in-as"');
    expect(html).not.toContain('approver-input');
    expect(html).toContain("api('/escalations/stream'");
  });

  it('opens the review API to reviewer tokens only', async () => {
    for (const route of [
      '/review/me',
      '/review/escalations/pending',
      '/review/escalations/stream',
    ]) {
      expect([route, (await fetch(`${url}${route}`)).status]).toEqual([route, 401]);
      const wrong = await fetch(`${url}${route}`, { headers: { Authorization: 'Bearer nope' } });
      expect([route, wrong.status]).toEqual([route, 401]);
    }
    expect((await getJson(`${url}/review/me`, as('cfo@example.com'))).body).toEqual({
      principal: 'cfo@example.com',
    });
    // The review API of before is gone, not left open beside the new one.
    expect((await fetch(`${url}/escalations/pending`)).status).toBe(404);
  });
});

describe('sample agent backend: an escalation nobody decides', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await createSampleApp({
      audit: { store: 'memory' },
      escalationTimeout: 300,
      reviewers: REVIEWERS,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
  });

  it('reports the step as expired (blocked) and streams an expired event', async () => {
    const stream = await SseClient.open(`${url}/review/escalations/stream`, as('bob'));
    try {
      const reply = await postJson(`${url}/agent/run`, {
        plan: [
          { tool: 'payments.initiate', args: { amount: 900, currency: 'USD', recipientId: 'r' } },
        ],
      });
      expect(reply.body.steps[0]).toMatchObject({
        outcome: 'expired',
        decision: 'BLOCK',
        reason: 'Escalation TIMEOUT — action blocked',
        actorHumanId: null,
      });
      expect(app.get(PaymentsService).initiated).toEqual([]);
      const pending = await stream.next((e) => e.event === 'pending');
      const expired = await stream.next((e) => e.event === 'expired');
      expect(JSON.parse(expired.data).escalationId).toBe(JSON.parse(pending.data).escalationId);
    } finally {
      stream.close();
    }
  });
});
