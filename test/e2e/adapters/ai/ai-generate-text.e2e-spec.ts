import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { generateText, stepCountIs, tool, type ToolSet } from 'ai';
import { filter, firstValueFrom } from 'rxjs';
import { z } from 'zod';
import {
  EscalationNotFoundError,
  PolicyBlockedError,
  ProvenanceConfigError,
  type EscalationRecord,
} from '../../../../lib';
import { provenanceTools, ToolCallRefusedError } from '../../../../lib/adapters/ai';
import { ACTIONS, bootAiApp, type AiApp } from './ai-app.fixture';
import { ScriptedModel, type ScriptedStep } from './scripted-model';

const small = { amount: 50, currency: 'GBP', recipient: 'rec_bob' };
const big = { amount: 2500, currency: 'GBP', recipient: 'rec_carol' };

function pay(input: Record<string, unknown>, then = 'Done.'): ScriptedStep[] {
  return [{ calls: [{ toolName: 'payments_initiate', input }] }, { text: then }];
}

describe('nestjs-provenance/ai: generateText in a Nest app with the embedded gateway', () => {
  let ai: AiApp;

  beforeEach(async () => {
    ai = await bootAiApp();
  });
  afterEach(() => ai.app.close());

  function run(
    model: ScriptedModel,
    prompt: string,
    tools: ToolSet = ai.agent.tools(),
    extra = {},
  ) {
    return generateText({ model: model.model, tools, stopWhen: stepCountIs(5), prompt, ...extra });
  }

  function firstPending(): Promise<EscalationRecord> {
    return firstValueFrom(ai.reviewer.pending$.pipe(filter((list) => list.length > 0))).then(
      (list) => list[0],
    );
  }

  it('runs a small payment, and the audit holds exactly its input, not the conversation the SDK passed along', async () => {
    const marker = `conversation-${randomUUID()}`;
    const model = new ScriptedModel(pay(small, 'Paid Bob.'));
    const result = await ai.gateway.runInSession('sess_ai_small', () =>
      run(model, `Pay Bob 50 GBP. ${marker}`),
    );

    expect(result.text).toBe('Paid Bob.');
    const [callId] = model.callIds;
    expect(ai.runs).toHaveLength(1);
    expect(ai.runs[0]).toMatchObject({ tool: 'payments_initiate', input: small, approvedBy: null });
    // The SDK did hand the tool the conversation (with the marker) in its options...
    expect(ai.runs[0].conversation).toContain(marker);
    expect(model.toolOutputsAt(1).get(callId)).toEqual({
      type: 'json',
      value: { paid: 50, currency: 'GBP', approvedBy: null },
    });

    const events = await ai.gateway.audit!.list({});
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'decision',
      action: 'payments.initiate',
      decision: 'ALLOW',
      agentId: 'agent-ai-e2e',
      sessionId: 'sess_ai_small',
    });
    // ...and the condition on `amount` matched because the parameters are the input, byte for byte.
    expect(JSON.stringify(events[0].parameters)).toBe(
      '{"amount":50,"currency":"GBP","recipient":"rec_bob"}',
    );
    const recorded = JSON.stringify(events);
    for (const leak of [marker, callId, 'toolCallId', 'messages', 'abortSignal', 'Pay Bob']) {
      expect(recorded).not.toContain(leak);
    }
  });

  it('holds a big payment until a reviewer approves it from another async context, then runs it with the approver', async () => {
    let seen: EscalationRecord | undefined;
    const approval = firstPending().then((record) => {
      seen = record;
      return ai.reviewer.approve(record.id, {
        approverId: 'alice@example.com',
        reason: 'invoice checked',
      });
    });
    const model = new ScriptedModel(pay(big, 'Paid Carol.'));
    const [result] = await Promise.all([run(model, 'Pay Carol 2500 GBP'), approval]);

    expect(result.text).toBe('Paid Carol.');
    expect(seen).toMatchObject({ action: 'payments.initiate', parameters: big, status: 'PENDING' });
    expect(ai.runs.map((r) => [r.tool, r.approvedBy])).toEqual([
      ['payments_initiate', 'alice@example.com'],
    ]);
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'json',
      value: { paid: 2500, currency: 'GBP', approvedBy: 'alice@example.com' },
    });
    const events = await ai.gateway.audit!.list({ escalationId: seen!.id });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.approved']);
    expect(JSON.stringify(events[0].parameters)).toBe(
      '{"amount":2500,"currency":"GBP","recipient":"rec_carol"}',
    );
    expect(events[1]).toMatchObject({
      decision: 'ALLOW',
      actorHumanId: 'alice@example.com',
      approverReason: 'invoice checked',
    });
  });

  it("refuses a data deletion: the tool does not run, the model's next prompt holds the reason, and the loop goes on", async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'customers' } }] },
      { text: 'I may not delete customer data.' },
    ]);
    const result = await run(model, 'Delete the customers table');

    expect(result.text).toBe('I may not delete customer data.');
    expect(ai.runs).toEqual([]);
    const [blocked] = await ai.gateway.audit!.list({ decision: 'BLOCK' });
    expect(blocked).toMatchObject({ action: 'data.delete', parameters: { table: 'customers' } });
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'error-text',
      value:
        "The call of 'data.delete' was refused and the tool did not run: " +
        `agents never delete customer data. Audit event ${blocked.id}.`,
    });
    // The step's tool-error part carries the structured refusal for the app.
    const toolError = result.steps[0].content.find((part) => part.type === 'tool-error');
    expect(toolError?.error).toBeInstanceOf(ToolCallRefusedError);
    expect((toolError!.error as ToolCallRefusedError).refusal).toEqual({
      blocked: true,
      reason: 'agents never delete customer data',
      eventId: blocked.id,
      action: 'data.delete',
    });
    expect((toolError!.error as Error).cause).toBeInstanceOf(PolicyBlockedError);
  });

  it("gives the model a reviewer's rejection with the reviewer's own reason", async () => {
    const rejection = firstPending().then((record) =>
      ai.reviewer.reject(record.id, { approverId: 'bob@example.com', reason: 'unknown vendor' }),
    );
    const model = new ScriptedModel(pay(big, 'Not paid.'));
    await Promise.all([run(model, 'Pay Carol'), rejection]);

    expect(ai.runs).toEqual([]);
    const output = model.toolOutputsAt(1).get(model.callIds[0]);
    expect(output?.type).toBe('error-text');
    expect(output?.value).toContain('the reviewer said: unknown vendor');
  });

  it('ends the run with PolicyBlockedError under onBlock: throw; the model is not asked again', async () => {
    const model = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'orders' } }] },
      { text: 'never reached' },
    ]);
    const error = await run(model, 'Delete orders', ai.agent.tools({ onBlock: 'throw' })).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(PolicyBlockedError);
    expect((error as PolicyBlockedError).reason).toBe('agents never delete customer data');
    expect(model.prompts).toHaveLength(1);
    expect(ai.runs).toEqual([]);
  });

  it('leaves allowed calls as they were under onBlock: throw (output mapped as the SDK maps it)', async () => {
    const model = new ScriptedModel(pay(small));
    await run(model, 'Pay Bob', ai.agent.tools({ onBlock: 'throw' }));
    expect(ai.runs).toHaveLength(1);
    expect(model.toolOutputsAt(1).get(model.callIds[0])).toEqual({
      type: 'json',
      value: { paid: 50, currency: 'GBP', approvedBy: null },
    });
  });

  it('withdraws the escalation of an aborted request: no one can approve a call that will never run', async () => {
    const controller = new AbortController();
    const withdrawn = firstValueFrom(
      ai.gateway.escalations$.pipe(filter((event) => event.type === 'withdrawn')),
    );
    const model = new ScriptedModel(pay(big, 'never reached'));
    const running = run(model, 'Pay Carol', ai.agent.tools(), {
      abortSignal: controller.signal,
    }).then(
      () => null,
      (e: unknown) => e,
    );
    const pending = await firstPending();
    controller.abort();

    const error = await running;
    // The SDK's own abort (a DOMException, from another realm under jest).
    expect((error as Error).name).toBe('AbortError');
    expect((await withdrawn).escalationId).toBe(pending.id);
    const events = await ai.gateway.audit!.list({ escalationId: pending.id });
    expect(events.map((e) => e.kind)).toEqual(['escalation.pending', 'escalation.withdrawn']);
    expect(events[1].decision).toBe('BLOCK');
    await expect(
      ai.reviewer.approve(pending.id, { approverId: 'alice@example.com' }),
    ).rejects.toBeInstanceOf(EscalationNotFoundError);
    expect(ai.runs).toEqual([]);
    expect(model.prompts).toHaveLength(1);
  });

  it('makes the tool-call id the idempotency key: a retried step is replayed, another input under it is refused', async () => {
    const id = `call_${randomUUID()}`;
    await run(new ScriptedModel(pay(small), [id]), 'Pay Bob');
    await run(new ScriptedModel(pay(small), [id]), 'Pay Bob again');
    const changed = new ScriptedModel(pay({ ...small, amount: 60 }), [id]);
    await run(changed, 'Pay Bob 60');

    const events = await ai.gateway.audit!.list({});
    expect(events.map((e) => [e.kind, e.decision])).toEqual([
      ['decision', 'ALLOW'],
      ['decision.replayed', 'ALLOW'],
      ['decision', 'BLOCK'],
    ]);
    expect(ai.runs.map((r) => (r.input as { amount: number }).amount)).toEqual([50, 50]);
    const refused = changed.toolOutputsAt(1).get(id);
    expect(refused?.type).toBe('error-text');
    expect(refused?.value).toContain(events[2].reason);
    expect(refused?.value).toContain(events[2].id);
  });

  it('records the calls under the sessionId option when one is given', async () => {
    await run(new ScriptedModel(pay(small)), 'Pay', ai.agent.tools({ sessionId: 'sess_ai_fixed' }));
    const [event] = await ai.gateway.audit!.list({});
    expect(event.sessionId).toBe('sess_ai_fixed');
  });

  it('keeps an async generator tool a generator: the final output reaches the model; blocked, its body never starts', async () => {
    const send = { subject: 'Hello', to: 'a@example.com' };
    const allowed = new ScriptedModel([
      { calls: [{ toolName: 'email_send', input: send }] },
      { text: 'Sent.' },
    ]);
    await run(allowed, 'Mail a@');
    expect(allowed.toolOutputsAt(1).get(allowed.callIds[0])).toEqual({
      type: 'json',
      value: { status: 'sent', to: 'a@example.com' },
    });

    const blocked = new ScriptedModel([
      { calls: [{ toolName: 'email_send', input: send }] },
      { text: 'Not sent.' },
    ]);
    await run(
      blocked,
      'Mail a@',
      ai.agent.tools({ actions: { ...ACTIONS, email_send: 'email.bulk' } }),
    );
    expect(ai.runs.map((r) => r.tool)).toEqual(['email_send']);
    expect(blocked.toolOutputsAt(1).get(blocked.callIds[0])?.value).toContain(
      'not on the allow list',
    );
  });

  it("still lets the policy decide a call the user approved through the SDK's needsApproval", async () => {
    const raw = ai.agent.shop.raw();
    const tools = provenanceTools(
      ai.gateway,
      { ...raw, data_delete: { ...raw.data_delete, needsApproval: true } },
      { actions: ACTIONS },
    );
    const prompt = 'Delete the archive table';
    const asking = new ScriptedModel([
      { calls: [{ toolName: 'data_delete', input: { table: 'archive' } }] },
    ]);
    const first = await generateText({ model: asking.model, tools, prompt });
    const request = first.content.find((part) => part.type === 'tool-approval-request');
    expect(request?.toolCall.toolCallId).toBe(asking.callIds[0]);
    expect(await ai.gateway.audit!.list({})).toEqual([]);

    // The user said yes; the policy still refuses.
    const answering = new ScriptedModel([{ text: 'The policy refused it.' }]);
    const second = await generateText({
      model: answering.model,
      tools,
      messages: [
        { role: 'user', content: prompt },
        ...sameRealm(first.response.messages),
        {
          role: 'tool',
          content: [
            { type: 'tool-approval-response', approvalId: request!.approvalId, approved: true },
          ],
        },
      ],
    });
    expect(second.text).toBe('The policy refused it.');
    expect(ai.runs).toEqual([]);
    const [blocked] = await ai.gateway.audit!.list({});
    expect(blocked).toMatchObject({ action: 'data.delete', decision: 'BLOCK' });
    expect(answering.toolOutputsAt(0).get(asking.callIds[0])?.value).toContain(
      'agents never delete customer data',
    );
  });

  it('returns the same tools: descriptions, schemas and keys unchanged, only execute wrapped', () => {
    const raw = ai.agent.shop.raw();
    const executes = Object.values(raw).map((t) => t.execute);
    const clientSide = tool({
      description: 'Ask the user',
      inputSchema: z.object({ q: z.string() }),
    });
    const gated = provenanceTools(
      ai.gateway,
      { ...raw, ask_user: clientSide },
      { actions: ACTIONS },
    );

    expect(Object.keys(gated)).toEqual([...Object.keys(raw), 'ask_user']);
    for (const name of Object.keys(raw) as (keyof typeof raw)[]) {
      expect(Object.keys(gated[name])).toEqual(Object.keys(raw[name]));
      expect(gated[name].description).toBe(raw[name].description);
      expect(gated[name].inputSchema).toBe(raw[name].inputSchema);
      expect(gated[name].execute).not.toBe(raw[name].execute);
    }
    // The tools given are not changed, and a tool the SDK does not run is returned as it is.
    expect(Object.values(raw).map((t) => t.execute)).toEqual(executes);
    expect(gated.ask_user).toBe(clientSide);
  });

  it('refuses a setup that would leave a tool ungated or under the wrong action', () => {
    const raw = ai.agent.shop.raw();
    const clientSide = tool({ inputSchema: z.object({ q: z.string() }) });
    const cases: [string, () => unknown][] = [
      [
        'misspelt tool',
        () =>
          provenanceTools(ai.gateway, raw, { actions: { payment_initiate: 'payments.initiate' } }),
      ],
      [
        'no execute',
        () =>
          provenanceTools(ai.gateway, { ask_user: clientSide }, { actions: { ask_user: 'ask' } }),
      ],
      ['empty action', () => provenanceTools(ai.gateway, raw, { actions: { data_delete: '' } })],
      ['no gateway', () => provenanceTools(undefined as never, raw)],
    ];
    const outcomes = cases.map(([name, setup]) => {
      try {
        setup();
        return [name, 'accepted'];
      } catch (error) {
        return [name, error instanceof ProvenanceConfigError ? 'refused' : String(error)];
      }
    });
    expect(outcomes).toEqual(cases.map(([name]) => [name, 'refused']));
  });
});

describe('nestjs-provenance/ai: a gateway that cannot decide', () => {
  it('does not run the tool, and the model never sees the gateway address', async () => {
    const port = await closedPort();
    const path = `provenance-${randomUUID()}`;
    const ai = await bootAiApp({
      gatewayUrl: `http://127.0.0.1:${port}/${path}`,
      apiKey: 'pk_test_aiadapter',
      timeout: 2_000,
      policy: undefined,
      audit: undefined,
    });
    try {
      const model = new ScriptedModel(pay(small, 'Could not pay.'));
      const result = await generateText({
        model: model.model,
        tools: ai.agent.tools(),
        stopWhen: stepCountIs(5),
        prompt: 'Pay Bob',
      });
      expect(result.text).toBe('Could not pay.');
      expect(ai.runs).toEqual([]);
      const output = model.toolOutputsAt(1).get(model.callIds[0]);
      expect(output?.type).toBe('error-text');
      expect(output?.value).toContain('could not decide this call, so the tool did not run');
      for (const leak of ['127.0.0.1', String(port), path, 'http']) {
        expect(output?.value).not.toContain(leak);
      }
    } finally {
      await ai.app.close();
    }
  });
});

/**
 * The messages, rebuilt of this realm's objects. Under jest the SDK's
 * JSON.parse makes objects of the host realm, and its check that an approved
 * input equals the schema's output compares constructors: outside jest both
 * are one realm, as here after the copy.
 */
function sameRealm<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sameRealm) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sameRealm(v)])) as T;
}

/** A local port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
