import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createSampleApp } from '../../../sample/sample.app';
import { DataService } from '../../../sample/tools/data.service';
import { PaymentsService } from '../../../sample/tools/payments.service';
import { baseUrl, getJson, postJson } from './sample-http';
import { SseClient } from './sse.client';

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
    const stream = await SseClient.open(`${url}/escalations/stream`);
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
    const listed = await getJson(`${url}/escalations/pending`);
    expect(listed.body.map((r: any) => r.id)).toContain(id);
    expect(listed.body.find((r: any) => r.id === id)).toMatchObject({
      status: 'PENDING',
      action: 'payments.initiate',
    });

    const decision = await postJson(`${url}/escalations/${id}/approve`, {
      approverId: 'cfo@example.com',
      reason: 'Verified with CFO',
    });
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
    expect((await getJson(`${url}/escalations/pending`)).body.map((r: any) => r.id)).not.toContain(
      id,
    );
  });

  it('gives a late subscriber the pending escalations first; a rejection blocks the step', async () => {
    const agentCall = run([payment(100, 'JPY', 'rec_jpy001'), payment(20, 'EUR')]);
    // Wait until it is held, without a stream: the review API says so.
    let id: string | undefined;
    for (let i = 0; i < 200 && id === undefined; i++) {
      const list = (await getJson(`${url}/escalations/pending`)).body as any[];
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

    const missingApprover = await postJson(`${url}/escalations/${id}/reject`, { reason: 'no' });
    expect(missingApprover.status).toBe(400);

    const decision = await postJson(`${url}/escalations/${id}/reject`, {
      approverId: 'alice',
      reason: 'JPY not authorised',
    });
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
    const again = await postJson(`${url}/escalations/${id}/approve`, { approverId: 'bob' });
    expect(again.status).toBe(404);
    const unknown = await postJson(`${url}/escalations/esc_unknown/approve`, { approverId: 'bob' });
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
    const html = await response.text();
    expect(html).toContain('data-testid="approver-input"');
    expect(html).toContain("new EventSource('/escalations/stream')");
  });
});

describe('sample agent backend: an escalation nobody decides', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await createSampleApp({
      audit: { store: 'memory' },
      escalationTimeout: 300,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
  });

  it('reports the step as expired (blocked) and streams an expired event', async () => {
    const stream = await SseClient.open(`${url}/escalations/stream`);
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
