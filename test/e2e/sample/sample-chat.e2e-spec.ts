import type { INestApplication } from '@nestjs/common';
import { filter, firstValueFrom, map, timeout } from 'rxjs';
import { ProvenanceReviewer, type AuditEvent, type EscalationRecord } from '../../../lib';
import { ChatTools } from '../../../sample/agent/chat-tools';
import { createSampleApp } from '../../../sample/sample.app';
import type { ReviewerTokens } from '../../../sample/review/reviewer-tokens';
import { baseUrl, getJson, postJson } from './sample-http';

const REVIEWERS: ReviewerTokens = { 'e2e-chat-cfo-token': 'cfo@example.com' };
// sample/policy.yml's words for the two rules the script meets.
const DATA_BLOCKED = 'Agents may not modify stored data (data.* is blocked)';
const OVER_500 = 'Payments over 500 need human approval';
// The scripted model's three calls (sample/agent/scripted-chat-model.ts), written out here.
const SMALL = { amount: 50, currency: 'GBP', recipientId: 'rec_chat_small' };
const DELETION = { table: 'customers', id: 'cus_42' };
const BIG = { amount: 800, currency: 'GBP', recipientId: 'rec_chat_big' };

/**
 * POST /agent/chat over real HTTP: the AI SDK's generateText loop over the
 * sample's scripted model, with provenanceTools gating the tools, on the
 * embedded gateway and sample/policy.yml. No network beyond loopback.
 */
describe('sample agent backend: POST /agent/chat (AI SDK loop)', () => {
  let app: INestApplication;
  let url: string;
  let reviewer: ProvenanceReviewer;
  let chatTools: ChatTools;

  const held = (recipientId: string): Promise<EscalationRecord> =>
    firstValueFrom(
      reviewer.pending$.pipe(
        map((records) => records.find((r) => r.parameters?.recipientId === recipientId)),
        filter((record): record is EscalationRecord => record !== undefined),
        timeout(10_000),
      ),
    );
  const audit = async (session: string) =>
    (await getJson<{ events: AuditEvent[] }>(`${url}/audit?session=${session}`)).body.events;

  beforeAll(async () => {
    app = await createSampleApp({
      audit: { store: 'memory' },
      escalationTimeout: 15_000,
      reviewers: REVIEWERS,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    url = baseUrl(app.getHttpServer());
    reviewer = app.get(ProvenanceReviewer);
    chatTools = app.get(ChatTools);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('runs the small payment, refuses the deletion with its reason, holds the big one until approved', async () => {
    const session = 'sess_e2e_chat';
    const chat = postJson(
      `${url}/agent/chat`,
      { prompt: 'Pay the suppliers' },
      { 'X-Provenance-Session': session },
    );
    const record = await held('rec_chat_big');
    expect(record).toMatchObject({
      action: 'payments.initiate',
      parameters: BIG,
      reason: OVER_500,
    });
    // Held: the small payment ran, the big one has not, nothing was deleted.
    expect(chatTools.payments.map((p) => p.amount)).toEqual([50]);
    // Approved by a reviewer over the review API, while the agent's request is still open.
    const approval = await postJson(
      `${url}/review/escalations/${encodeURIComponent(record.id)}/approve`,
      { reason: 'Supplier verified' },
      { Authorization: 'Bearer e2e-chat-cfo-token' },
    );
    expect(approval.status).toBe(200);

    const { status, body } = await chat;
    expect(status).toBe(200);
    expect(body.sessionId).toBe(session);
    expect(body.finishReason).toBe('stop');
    expect(body.calls.map((c: any) => [c.step, c.toolName, c.input, c.outcome])).toEqual([
      [0, 'payments_initiate', SMALL, 'ran'],
      [1, 'data_delete', DELETION, 'refused'],
      [2, 'payments_initiate', BIG, 'ran'],
    ]);
    const [small, deletion, big] = body.calls;
    expect(small.output).toMatchObject({ ...SMALL, status: 'initiated', approvedBy: null });
    expect(big.output).toMatchObject({
      ...BIG,
      status: 'initiated',
      approvedBy: 'cfo@example.com',
    });
    expect(deletion.refusal).toMatchObject({
      blocked: true,
      action: 'data.delete',
      reason: DATA_BLOCKED,
    });
    // What the model received at its next step: the refusal's text, with the reason.
    expect(typeof deletion.modelRead).toBe('string');
    expect(deletion.modelRead).toContain(DATA_BLOCKED);
    expect(deletion.modelRead).toContain(deletion.refusal.eventId);
    expect(small.modelRead).toEqual(small.output);
    expect(body.text).toContain(`data_delete refused: ${deletion.modelRead}`);

    // What really ran.
    expect(chatTools.payments.map((p) => [p.amount, p.recipientId, p.approvedBy])).toEqual([
      [50, 'rec_chat_small', null],
      [800, 'rec_chat_big', 'cfo@example.com'],
    ]);
    expect(chatTools.deleted).toEqual([]);

    // The audit holds each call once, with exactly the tool's input as parameters
    const events = await audit(session);
    expect(events.map((e) => [e.kind, e.action, e.decision, e.actorHumanId])).toEqual([
      ['decision', 'payments.initiate', 'ALLOW', null],
      ['decision', 'data.delete', 'BLOCK', null],
      ['escalation.pending', 'payments.initiate', 'ESCALATE', null],
      ['escalation.approved', 'payments.initiate', 'ALLOW', 'cfo@example.com'],
    ]);
    // (the log stores keys sorted, so the comparison is of values, not of key order).
    expect(events.map((e) => e.parameters)).toStrictEqual([SMALL, DELETION, BIG, BIG]);
    expect(events[1].id).toBe(deletion.refusal.eventId);
    expect(JSON.stringify(events)).not.toContain('Pay the suppliers');
  });

  it('withdraws the held payment when the client goes away', async () => {
    const session = 'sess_e2e_chat_gone';
    const paidBefore = chatTools.payments.length;
    const client = new AbortController();
    const chat = fetch(`${url}/agent/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Provenance-Session': session },
      body: '{}',
      signal: client.signal,
    });
    chat.catch(() => undefined);
    const record = await held('rec_chat_big');
    expect(record.sessionId).toBe(session);
    const withdrawn = firstValueFrom(
      reviewer.escalations$.pipe(
        filter((e) => e.escalationId === record.id && e.type === 'withdrawn'),
        timeout(10_000),
      ),
    );
    client.abort();
    await expect(chat).rejects.toThrow();
    await withdrawn;

    const events = await audit(session);
    expect(events.map((e) => [e.kind, e.action])).toEqual([
      ['decision', 'payments.initiate'],
      ['decision', 'data.delete'],
      ['escalation.pending', 'payments.initiate'],
      ['escalation.withdrawn', 'payments.initiate'],
    ]);
    expect(await reviewer.pending()).toEqual([]);
    // Only the small payment of this run went out.
    expect(chatTools.payments.slice(paidBefore).map((p) => p.amount)).toEqual([50]);
  });

  it('refuses a prompt that is not text', async () => {
    const reply = await postJson(`${url}/agent/chat`, { prompt: 42 });
    expect(reply.status).toBe(400);
  });
});
