import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import axios from 'axios';
import { HttpService } from '@nestjs/axios';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import {
  EscalationNotFoundError,
  GatewayError,
  ProvenanceConfigError,
} from '../../../lib/protocol/provenance.errors';
import type { GatewayEvent, GatewayRequest } from '../../../lib/protocol/gateway.types';
import { HttpTransport } from '../../../lib/transport/http/http.transport';
import {
  type ReferenceGateway,
  startReferenceGateway,
} from '../../fixtures/reference-gateway.fixture';

const AGENT = '6f1c2d3e-0000-4000-8000-00000000a9e1';

function request(overrides: Partial<GatewayRequest> = {}): GatewayRequest {
  return {
    sessionId: 'sess_0123456789abcdef',
    agentId: AGENT,
    action: 'payments.initiate',
    parameters: { amount: 250, currency: 'EUR' },
    decision: 'BLOCK',
    ...overrides,
  };
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected the call to fail');
}

/**
 * An HttpService whose axios sends with axios' own http adapter (behind a
 * wrapper, so the transport does not put its direct adapter in its place).
 */
function axiosOwnAdapter(): HttpService {
  const instance = axios.create();
  const httpAdapter = axios.getAdapter('http');
  instance.defaults.adapter = (config) => httpAdapter(config);
  return new HttpService(instance);
}

// Every case runs on each client (the `httpClient` option), and the axios client both
// through its direct adapter (the default) and through axios' own: the same behaviour, every way.
describe.each([
  ['axios', 'axios'],
  ["axios, through axios' own http adapter", 'axios'],
  ['node', 'node'],
] as const)('HttpTransport (%s) against a reference gateway', (way, httpClient) => {
  const ownAdapter = way !== httpClient;
  let gateway: ReferenceGateway;
  const transports: HttpTransport[] = [];

  const transport = (
    options: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {},
  ): HttpTransport => {
    const created = new HttpTransport({
      gatewayUrl: gateway.url,
      apiKey: gateway.apiKey,
      timeout: 5_000,
      httpClient,
      ...(ownAdapter ? { httpService: axiosOwnAdapter() } : {}),
      ...options,
    });
    transports.push(created);
    return created;
  };
  const run = (t: HttpTransport, req: GatewayRequest = request()): Promise<GatewayEvent[]> =>
    lastValueFrom(t.execute(req).pipe(toArray()));

  beforeEach(async () => {
    gateway = await startReferenceGateway();
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await gateway.close();
  });

  describe('decisions', () => {
    it('sends the snake_case body and the API key, and maps ALLOW', async () => {
      const events = await run(transport());

      expect(events).toEqual([
        {
          type: 'decided',
          response: {
            eventId: expect.any(String),
            decision: 'ALLOW',
            reason: 'No rule matched; default ALLOW',
            escalationId: null,
            actorHumanId: null,
            approverReason: null,
            escalationOutcome: null,
          },
        },
      ]);
      const [sent] = gateway.requests;
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/v1/gateway/execute');
      expect(sent.raw).toBe(
        '{"session_id":"sess_0123456789abcdef","agent_id":"6f1c2d3e-0000-4000-8000-00000000a9e1",' +
          '"action":"payments.initiate","parameters":{"amount":250,"currency":"EUR"},"decision":"BLOCK"}',
      );
      expect(sent.headers['x-provenance-api-key']).toBe(gateway.apiKey);
      expect(sent.headers['content-type']).toMatch(/^application\/json/);
      expect(sent.headers.prefer).toBe('respond-async');
    });

    it('sends tenant_policy_id and idempotency_key only when given, and no Prefer when asyncEscalation is off', async () => {
      const t = transport({ asyncEscalation: false });
      await run(t, request({ tenantPolicyId: 'tp-1', idempotencyKey: 'idem-1', parameters: null }));
      await run(t, request({ tenantPolicyId: null }));

      expect(gateway.requests[0].body).toEqual({
        session_id: 'sess_0123456789abcdef',
        agent_id: AGENT,
        action: 'payments.initiate',
        parameters: null,
        decision: 'BLOCK',
        tenant_policy_id: 'tp-1',
        idempotency_key: 'idem-1',
      });
      expect(Object.keys(gateway.requests[1].body as object)).toEqual([
        'session_id',
        'agent_id',
        'action',
        'parameters',
        'decision',
      ]);
      expect(gateway.requests[0].headers.prefer).toBeUndefined();
    });

    it('maps BLOCK (a 200 answer, not an error)', async () => {
      gateway.policy = () => ({ decision: 'BLOCK', reason: 'Amount over limit' });

      const [event] = await run(transport());

      expect(event).toEqual({
        type: 'decided',
        response: expect.objectContaining({
          decision: 'BLOCK',
          reason: 'Amount over limit',
          escalationId: null,
        }),
      });
    });
  });

  describe('escalation held in the request (reference server)', () => {
    beforeEach(() => {
      gateway.policy = () => ({ decision: 'ESCALATE', reason: 'Large payment' });
    });

    it('approved: one decided event, ALLOW by the approver', async () => {
      const events = run(transport());
      const id = await gateway.waitForEscalation();
      expect(gateway.resolve(id, 'APPROVE', 'alice')).toBe(true);

      expect(await events).toEqual([
        {
          type: 'decided',
          response: {
            eventId: expect.any(String),
            decision: 'ALLOW',
            reason: 'Escalation APPROVED by alice',
            escalationId: id,
            actorHumanId: 'alice',
            approverReason: null,
            escalationOutcome: 'approved',
          },
        },
      ]);
    });

    it('rejected: BLOCK, outcome rejected', async () => {
      const events = run(transport());
      gateway.resolve(await gateway.waitForEscalation(), 'REJECT', 'bob', 'no');

      const [event] = await events;
      expect(event).toEqual({
        type: 'decided',
        response: expect.objectContaining({
          decision: 'BLOCK',
          reason: 'Escalation REJECT — action blocked',
          escalationOutcome: 'rejected',
        }),
      });
    });

    it('timed out: BLOCK, outcome expired (told apart by the reason text)', async () => {
      gateway.holdMs = 200;

      const events = await run(transport());

      expect(events).toHaveLength(1);
      expect(events[0]).toEqual({
        type: 'decided',
        response: expect.objectContaining({
          decision: 'BLOCK',
          reason: 'Escalation TIMEOUT — action blocked',
          actorHumanId: null,
          escalationOutcome: 'expired',
        }),
      });
    });

    it('lists pending escalations (camelCased) and decides them through the transport', async () => {
      const t = transport();
      const events = run(t, request({ parameters: { b: 'é', a: 1 } }));
      const id = await gateway.waitForEscalation();

      const pending = await t.pending({ tenantId: gateway.tenantId });

      expect(gateway.requests[1].query).toEqual({
        tenant_id: gateway.tenantId,
        offset: '0',
        limit: '100',
      });
      expect(pending).toEqual([
        {
          id,
          tenantId: gateway.tenantId,
          agentId: AGENT,
          action: 'payments.initiate',
          // Python: json.dumps({"b": "é", "a": 1}, sort_keys=True, separators=(",", ":"))
          parametersHash: createHash('sha256').update('{"a":1,"b":"\\u00e9"}').digest('hex'),
          status: 'PENDING',
          approverId: null,
          decidedAt: null,
          reason: null,
          createdAt: expect.any(String),
          updatedAt: expect.any(String),
        },
      ]);

      const outcome = await t.decide(id, 'APPROVE', { approverId: 'carol', reason: 'checked' });
      expect(outcome).toEqual({
        escalationId: id,
        decision: 'APPROVE',
        approverId: 'carol',
        reason: 'checked',
      });
      expect(gateway.requests[2].body).toEqual({
        decision: 'APPROVE',
        approver_id: 'carol',
        reason: 'checked',
      });
      const [event] = await events;
      expect(event.type === 'decided' && event.response.actorHumanId).toBe('carol');
    });

    it('decide on an unknown or resolved escalation raises EscalationNotFoundError', async () => {
      const error = await failure(transport().decide('nope', 'REJECT', { approverId: 'bob' }));

      expect(error).toBeInstanceOf(EscalationNotFoundError);
      expect((error as unknown as EscalationNotFoundError).escalationId).toBe('nope');
    });
  });

  describe('async escalation extension (202 + long poll)', () => {
    beforeEach(() => {
      gateway.asyncEscalation = true;
      gateway.policy = () => ({ decision: 'ESCALATE', reason: 'Large payment' });
    });

    it('emits escalated at once, then the decision after a human approves', async () => {
      const t = transport();
      const events: GatewayEvent[] = [];
      const done = new Promise<void>((resolve, reject) =>
        t
          .execute(request())
          .subscribe({ next: (event) => events.push(event), error: reject, complete: resolve }),
      );
      const id = await gateway.waitForEscalation();
      // The escalated event comes from the 202, before any human decided.
      await until(() => events.length === 1);
      expect(events[0]).toEqual({
        type: 'escalated',
        escalation: {
          escalationId: id,
          action: 'payments.initiate',
          agentId: AGENT,
          sessionId: 'sess_0123456789abcdef',
          parameters: { amount: 250, currency: 'EUR' },
          reason: 'Large payment',
          createdAt: expect.any(String),
          expiresAt: expect.any(String),
        },
      });
      await until(() => gateway.requests.some((r) => r.path.endsWith('/wait')));

      gateway.resolve(id, 'APPROVE', 'alice');
      await done;

      expect(events[1]).toEqual({
        type: 'decided',
        response: expect.objectContaining({
          decision: 'ALLOW',
          escalationId: id,
          actorHumanId: 'alice',
          escalationOutcome: 'approved',
        }),
      });
      const wait = gateway.requests.find((r) => r.path === `/v1/escalations/${id}/wait`);
      expect(Number(wait?.query.timeout_ms)).toBeGreaterThan(0);
      expect(Number(wait?.query.timeout_ms)).toBeLessThanOrEqual(25_000);
      expect(wait?.headers['x-provenance-api-key']).toBe(gateway.apiKey);
    });

    it('rejected and expired escalations end in BLOCK with their outcome', async () => {
      const t = transport();
      const rejected = run(t);
      gateway.resolve(await gateway.waitForEscalation(), 'REJECT', 'bob');
      expect((await rejected).map((e) => e.type)).toEqual(['escalated', 'decided']);
      expect((await rejected)[1]).toMatchObject({
        response: { decision: 'BLOCK', escalationOutcome: 'rejected' },
      });

      gateway.holdMs = 200;
      const expired = await run(t);
      expect(expired[1]).toMatchObject({
        response: {
          decision: 'BLOCK',
          reason: 'Escalation TIMEOUT — action blocked',
          escalationOutcome: 'expired',
        },
      });
    });

    it('polls again after 204', async () => {
      gateway.nextResponse({ match: (r) => r.path.endsWith('/wait'), status: 204, body: '' });
      const events = run(transport());
      const id = await gateway.waitForEscalation();
      await until(() => gateway.requests.filter((r) => r.path.endsWith('/wait')).length === 2);
      gateway.resolve(id, 'APPROVE', 'alice');

      expect((await events)[1]).toMatchObject({ response: { decision: 'ALLOW' } });
    });

    it('gives up after maxEscalationWait with a timeout error that cannot fail open', async () => {
      const error = await failure(run(transport({ maxEscalationWait: 300 })));

      expect(error).toBeInstanceOf(GatewayError);
      expect(error.kind).toBe('timeout');
      expect(error.failOpenEligible).toBe(false);
    });

    it('a 5xx while waiting does not become fail-open eligible', async () => {
      for (let i = 0; i < 4; i += 1)
        gateway.nextResponse({ match: (r) => r.path.endsWith('/wait'), status: 503, body: {} });
      const error = await failure(run(transport()));

      expect(error.failOpenEligible).toBe(false);
      expect(error.message).toMatch(/waiting for the human decision/);
    });

    it('a wait answered 404 (the gateway forgot the hold) fails closed', async () => {
      gateway.nextResponse({
        match: (r) => r.path.endsWith('/wait'),
        status: 404,
        body: { detail: 'Not Found' },
      });
      const error = await failure(run(transport()));

      expect(error).toMatchObject({ kind: 'status', status: 404, failOpenEligible: false });
      expect(error.message).toMatch(/no longer knows escalation/);
    });

    it('unsubscribing during the wait aborts the poll and polls no more', async () => {
      const subscription = transport()
        .execute(request())
        .subscribe({ error: () => undefined });
      await gateway.waitForEscalation();
      await until(() => gateway.requests.some((r) => r.path.endsWith('/wait')));
      const aborted = gateway.waitForAbort();

      subscription.unsubscribe();

      expect((await aborted).path).toMatch(/\/wait$/);
      // The caller left a held call: the transport withdraws it, and polls no more.
      await until(() => gateway.requests.some((r) => r.path.endsWith('/withdraw')));
      const count = gateway.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(gateway.requests.length).toBe(count);
      const after = gateway.requests.slice(
        gateway.requests.findIndex((r) => r.path.endsWith('/wait')),
      );
      expect(after.filter((r) => r.path.endsWith('/wait'))).toHaveLength(1);
      expect(after.filter((r) => r.path.endsWith('/withdraw')).map((r) => r.method)).toEqual([
        'POST',
      ]);
    });
  });

  describe('HTTP error statuses', () => {
    it('401: the key was refused; the message says where to fix it, not the key', async () => {
      const error = await failure(
        run(transport({ apiKey: 'pk_test_wrongwrongwrongwrongwrongwrongwrongwrongwro' })),
      );

      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ kind: 'status', status: 401, failOpenEligible: false });
      expect(error.message).toContain('the gateway rejected the API key (401)');
      expect(error.message).toContain('PROVENANCE_API_KEY');
    });

    it('403 is a configuration error', async () => {
      gateway.nextResponse({ status: 403, body: { detail: { message: 'Forbidden' } } });
      const error = await failure(run(transport()));

      expect(error).toMatchObject({ kind: 'status', status: 403, failOpenEligible: false });
      expect(error.message).toMatch(/403/);
    });

    it("404: asks whether gatewayUrl is the gateway's base URL", async () => {
      const error = await failure(run(transport({ gatewayUrl: `${gateway.url}/api` })));

      expect(error).toMatchObject({ kind: 'status', status: 404, failOpenEligible: false });
      expect(error.message).toContain("not found (404): is gatewayUrl the gateway's base URL?");
      expect(error.message).toContain(`${gateway.url}/api/v1/gateway/execute`);
    });

    it('422: names the field FastAPI complained about, without echoing the input', async () => {
      const bad = request({
        action: undefined as unknown as string,
        parameters: { secret: 'hunter2' },
      });
      const error = await failure(run(transport(), bad));

      expect(error).toMatchObject({ kind: 'status', status: 422, failOpenEligible: false });
      expect(error.message).toContain('body.action: Field required');
      expect(error.message).not.toContain('hunter2');
    });

    it.each([
      [500, false],
      [502, false],
      [503, true],
      [504, false],
    ])('%i: a gateway error; fail-open eligible: %s', async (status, eligible) => {
      // Only a 503 says the gateway took no call; a 500 may follow a recorded
      // decision, a proxy's 502/504 may hide a call still held for a human.
      gateway.nextResponse({ status, body: { detail: 'boom' } });
      const error = await failure(run(transport()));

      expect(error).toMatchObject({ kind: 'status', status, failOpenEligible: eligible });
      expect(error.message).toContain(`gateway error ${status}`);
    });

    it('302: a protocol error, and the API key never goes to the other host', async () => {
      const elsewhere: http.IncomingHttpHeaders[] = [];
      const other = http.createServer((req, res) => {
        elsewhere.push(req.headers);
        res.end('{}');
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      try {
        const location = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v1/gateway/execute`;
        gateway.nextResponse({ status: 302, headers: { location }, body: '' });

        const error = await failure(run(transport()));

        expect(error).toMatchObject({ kind: 'protocol', status: 302, failOpenEligible: false });
        expect(error.message).toMatch(/redirect/);
        expect(elsewhere).toEqual([]);
      } finally {
        other.closeAllConnections();
        await new Promise((resolve) => other.close(resolve));
      }
    });
  });

  describe('network failures', () => {
    it('connection refused is unreachable (fail-open eligible)', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));

      const error = await failure(run(transport({ gatewayUrl: `http://127.0.0.1:${port}` })));

      expect(error).toMatchObject({ kind: 'unreachable', status: null, failOpenEligible: true });
      expect(error.cause).toMatchObject({ code: 'ECONNREFUSED' });
    });

    it('a server slower than the timeout option: kind timeout, and the request is aborted', async () => {
      gateway.nextResponse({ delayMs: 5_000, body: { decision: 'ALLOW', reason: 'late' } });
      const aborted = gateway.waitForAbort();

      const error = await failure(run(transport({ timeout: 200 })));

      expect(error).toMatchObject({ kind: 'timeout', failOpenEligible: false });
      expect(error.message).toContain('200 ms');
      await aborted;
    });

    it('reset before any response is interrupted, not unreachable: the call may be recorded or held', async () => {
      gateway.nextResponse({ destroy: 'before-response' });
      const error = await failure(run(transport()));

      expect(error).toMatchObject({ kind: 'interrupted', failOpenEligible: false });
    });

    it('reset after the headers is a protocol error: the server may have recorded the call', async () => {
      gateway.nextResponse({
        destroy: 'after-headers',
        body: {
          event_id: 'e1',
          decision: 'ALLOW',
          reason: 'r',
          escalation_id: null,
          actor_human_id: null,
        },
      });
      const error = await failure(run(transport()));

      expect(error).toMatchObject({ kind: 'protocol', status: 200, failOpenEligible: false });
    });

    it('unsubscribing aborts the request (the server sees the client leave)', async () => {
      gateway.nextResponse({ hang: true });
      const aborted = gateway.waitForAbort();
      const subscription = transport()
        .execute(request())
        .subscribe({ error: () => undefined });
      await until(() => gateway.requests.length === 1);

      subscription.unsubscribe();

      expect((await aborted).path).toBe('/v1/gateway/execute');
    });
  });

  describe('answers that are not the wire format (never ALLOW)', () => {
    const ok = { event_id: 'e1', reason: 'r', escalation_id: null, actor_human_id: null };
    it.each<[string, { status?: number; headers?: Record<string, string>; body: unknown }]>([
      [
        'malformed JSON',
        { headers: { 'content-type': 'application/json' }, body: '{"decision": "ALLOW",' },
      ],
      ['no decision', { body: { ...ok } }],
      ['an unknown decision word', { body: { ...ok, decision: 'MAYBE' } }],
      ['a lowercase decision', { body: { ...ok, decision: 'allow' } }],
      ['a JSON array', { body: [{ ...ok, decision: 'ALLOW' }] }],
      ['an empty body', { headers: { 'content-type': 'application/json' }, body: '' }],
      [
        'text/html',
        {
          headers: { 'content-type': 'text/html' },
          body: JSON.stringify({ ...ok, decision: 'ALLOW' }),
        },
      ],
      ['201 instead of 200', { status: 201, body: { ...ok, decision: 'ALLOW' } }],
      [
        '202 when asyncEscalation is off',
        { status: 202, body: { escalation_id: 'x', status: 'PENDING' } },
      ],
    ])('%s is a protocol error', async (_name, script) => {
      gateway.nextResponse(script);
      const error = await failure(run(transport({ asyncEscalation: false })));

      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ kind: 'protocol', failOpenEligible: false });
    });

    it('an answer over 1 MiB is a protocol error, whatever it says', async () => {
      const padding = 'x'.repeat(2 * 1024 * 1024);
      gateway.nextResponse({ body: { ...ok, decision: 'ALLOW', padding } });
      const error = await failure(run(transport()));

      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toMatchObject({ kind: 'protocol', failOpenEligible: false });
      expect(error.message).toMatch(/broke off|maxContentLength/);
    });

    it('ESCALATE as a final 200 answer passes through as ESCALATE', async () => {
      gateway.nextResponse({ body: { ...ok, decision: 'ESCALATE', escalation_id: 'esc-1' } });
      const [event] = await run(transport());

      expect(event).toMatchObject({
        type: 'decided',
        response: { decision: 'ESCALATE', escalationOutcome: null },
      });
    });
  });

  describe('connections', () => {
    it('keep-alive: 20 sequential calls use one TCP connection', async () => {
      const t = transport();
      for (let i = 0; i < 20; i += 1) await run(t);

      expect(gateway.requests).toHaveLength(20);
      expect(gateway.connectionCount).toBe(1);
    });

    it('an injected HttpService gets keep-alive too', async () => {
      const t = transport({ httpService: new HttpService(axios.create()) });
      for (let i = 0; i < 5; i += 1) await run(t);

      expect(gateway.connectionCount).toBe(1);
    });

    it('close() releases every socket, is idempotent, and refuses later calls', async () => {
      const t = transport();
      await run(t);
      expect(await gateway.openConnections()).toBe(1);

      await t.close();
      await t.close();
      await new Promise((resolve) => setImmediate(resolve));
      await until(async () => (await gateway.openConnections()) === 0);

      expect(await gateway.openConnections()).toBe(0);
      const error = await failure(firstValueFrom(t.execute(request())));
      expect(error).toBeInstanceOf(GatewayError);
      expect(error.failOpenEligible).toBe(false);
    });
  });

  describe('configuration', () => {
    it.each(['ftp://gateway', 'not a url', 'http://gateway/?x=1', ''])(
      'rejects gatewayUrl %p',
      (gatewayUrl) => {
        expect(() => new HttpTransport({ gatewayUrl, apiKey: 'pk_test_x', timeout: 1000 })).toThrow(
          ProvenanceConfigError,
        );
      },
    );

    it('rejects a missing key and a bad timeout', () => {
      expect(
        () => new HttpTransport({ gatewayUrl: 'http://g', apiKey: '', timeout: 1000 }),
      ).toThrow(/apiKey/);
      expect(() => new HttpTransport({ gatewayUrl: 'http://g', apiKey: 'k', timeout: 0 })).toThrow(
        /timeout/,
      );
    });

    it('rejects an httpClient other than axios or node, naming the option', () => {
      expect(
        () =>
          new HttpTransport({
            gatewayUrl: 'http://g',
            apiKey: 'k',
            timeout: 1000,
            httpClient: 'fetch' as 'node',
          }),
      ).toThrow(/`httpClient` must be 'axios' or 'node'/);
    });

    it('target names the gateway without credentials or a trailing slash', async () => {
      const t = new HttpTransport({
        gatewayUrl: 'https://user:pw@gw.example:8443/base/',
        apiKey: 'k',
        timeout: 1000,
      });
      expect(t.target).toBe('https://gw.example:8443/base');
      expect(t.kind).toBe('http');
      await t.close();
    });
  });

  describe('the API key never appears in an error', () => {
    const scenarios: Array<
      [string, (g: ReferenceGateway) => Partial<ConstructorParameters<typeof HttpTransport>[0]>]
    > = [
      ['401', () => ({ apiKey: 'pk_test_notTheRightKeyButStillSecret000000000000000' })],
      [
        '500 echoing the key',
        (g) => (
          g.nextResponse({ status: 500, body: { detail: { message: `bad key ${g.apiKey}` } } }),
          {}
        ),
      ],
      [
        '422 echoing the key',
        (g) => (
          g.nextResponse({
            status: 422,
            body: { detail: [{ loc: ['header', g.apiKey], msg: g.apiKey }] },
          }),
          {}
        ),
      ],
      [
        'protocol echoing the key',
        (g) => (g.nextResponse({ body: { decision: g.apiKey, reason: '' } }), {}),
      ],
      ['timeout', (g) => (g.nextResponse({ delayMs: 2_000 }), { timeout: 100 })],
      [
        'reset mid-response',
        (g) => (g.nextResponse({ destroy: 'after-headers', body: { decision: 'ALLOW' } }), {}),
      ],
      ['reset before response', (g) => (g.nextResponse({ destroy: 'before-response' }), {})],
      ['unreachable', () => ({ gatewayUrl: 'http://127.0.0.1:1' })],
    ];

    it.each(scenarios)('%s', async (_name, arrange) => {
      const options = arrange(gateway);
      const key = options.apiKey ?? gateway.apiKey;
      const error = await failure(run(transport(options)));

      expect(error).toBeInstanceOf(GatewayError);
      const asJson = JSON.stringify(error, Object.getOwnPropertyNames(error));
      const causeJson = JSON.stringify(
        error.cause ?? null,
        error.cause ? Object.getOwnPropertyNames(error.cause) : [],
      );
      const inspected = inspect(error, { depth: Infinity, showHidden: true, getters: true });
      for (const text of [asJson, causeJson, inspected, String(error), error.stack ?? '']) {
        expect(text).not.toContain(key);
      }
    });
  });
});

/** Polls a condition on the event loop; jest's own timeout bounds it. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}
