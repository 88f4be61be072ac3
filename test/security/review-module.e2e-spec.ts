import 'reflect-metadata';
import {
  Injectable,
  Module,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  type INestApplication,
  type Provider,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { filter, firstValueFrom, timeout } from 'rxjs';
import {
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewModule,
  ProvenanceReviewer,
  type EscalationEvent,
  type ExecutionResult,
  type PolicyDocument,
  type ReviewRequest,
} from '../../lib';
import { generateApiKey } from '../../lib/server/api-keys';
import { createGatewayServer } from '../../lib/server/factory';
import { SseClient } from '../e2e/sample/sse.client';

/**
 * ProvenanceReviewModule in a real Nest app (embedded gateway, memory audit
 * store) on Express and Fastify, over real HTTP on loopback: every route but
 * the page needs a principal from `authorize`, the approver is that
 * principal, the agent can never approve its own call, and errors get their
 * own status codes.
 */
jest.setTimeout(30_000);

const AGENT_ID = 'agent-7';
const POLICY: PolicyDocument = {
  name: 'review-module',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Payments over 100 need a human',
    },
  ],
};

/** Reviewer tokens of these tests: token → principal. The agent's own name is one of them. */
const TOKENS: Record<string, string> = {
  'tok-alice-0123456789': 'alice@example.com',
  'tok-bob-0123456789': 'bob',
  'tok-agent-0123456789': AGENT_ID,
  'tok-throws-0123456789': '(throws)',
};
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const ALICE = bearer('tok-alice-0123456789');
const BOB = bearer('tok-bob-0123456789');
const AGENT = bearer('tok-agent-0123456789');

/** A small token guard, as an app would write one. Throws for one token, to test that too. */
function authorize(request: ReviewRequest): string | null {
  const header = request.headers.authorization;
  const token = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header)?.[1] : undefined;
  if (token === 'tok-throws-0123456789') throw new Error(`token store down for ${token}`);
  return token === undefined ? null : (TOKENS[token] ?? null);
}

type Platform = 'express' | 'fastify';

interface Booted {
  app: INestApplication;
  url: string;
  gateway: ProvenanceGateway;
  reviewer: ProvenanceReviewer;
}

async function boot(
  platform: Platform,
  review: DynamicModule,
  providers: Provider[] = [],
  gateway: { gatewayUrl: string; apiKey: string } | null = null,
): Promise<Booted> {
  @Module({
    providers,
    imports: [
      ProvenanceModule.forRoot(
        gateway === null
          ? {
              agentId: AGENT_ID,
              policy: POLICY,
              audit: { store: 'memory' },
              escalationTimeout: 20_000,
            }
          : { agentId: AGENT_ID, ...gateway },
      ),
      review,
    ],
  })
  class AppModule {}
  const options = { logger: false as const, forceCloseConnections: true, abortOnError: false };
  const app =
    platform === 'fastify'
      ? await NestFactory.create(AppModule, new FastifyAdapter(), options)
      : await NestFactory.create(AppModule, options);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    gateway: app.get(ProvenanceGateway),
    reviewer: app.get(ProvenanceReviewer),
  };
}

async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; text: string; body: any }> {
  const hasBody = init.body !== undefined;
  const response = await fetch(url, {
    method: init.method ?? (hasBody ? 'POST' : 'GET'),
    headers: { ...(hasBody ? { 'Content-Type': 'application/json' } : {}), ...init.headers },
    body: hasBody ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/** An agent call held for a human: its escalation id, and the call's promise. */
async function heldCall(
  booted: Booted,
  amount: number,
): Promise<{ id: string; call: Promise<ExecutionResult> }> {
  const pending = firstValueFrom(
    booted.gateway.escalations$.pipe(
      filter((e: EscalationEvent) => e.type === 'pending' && e.parameters?.amount === amount),
      timeout(10_000),
    ),
  );
  const call = booted.gateway.execute('payments.initiate', { amount, currency: 'GBP' });
  // An unhandled rejection must not end the test run before the test looks at it.
  call.catch(() => undefined);
  return { id: (await pending).escalationId, call };
}

const stillPending = async (booted: Booted, id: string) =>
  (await booted.reviewer.pending()).some((record) => record.id === id);

describe.each<Platform>(['express', 'fastify'])('ProvenanceReviewModule on %s', (platform) => {
  let booted: Booted;
  let base: string;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    booted = await boot(platform, ProvenanceReviewModule.forRoot({ authorize }));
    base = `${booted.url}/provenance/review`;
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    await booted?.app.close();
  });

  it('serves the page to anyone (it holds no data), with a strict Content-Security-Policy', async () => {
    const page = await request(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.text).toContain('data-testid="signed-in-as"');
    expect(page.text).not.toContain('approver-input');
  });

  it('answers 401 on every data route without a principal, naming what is missing and never echoing the token', async () => {
    const { id, call } = await heldCall(booted, 401);
    const secret = 'tok-unknown-secret-4242';
    const routes: Array<[string, string, unknown]> = [
      ['GET', `${base}/me`, undefined],
      ['GET', `${base}/escalations/pending`, undefined],
      ['GET', `${base}/escalations/stream`, undefined],
      ['POST', `${base}/escalations/${id}/approve`, {}],
      ['POST', `${base}/escalations/${id}/reject`, { reason: 'no' }],
    ];
    for (const [method, url, body] of routes) {
      for (const headers of [{}, bearer(secret), { Authorization: secret }]) {
        const reply = await request(url, {
          method,
          body,
          headers: { Accept: url.endsWith('/stream') ? 'text/event-stream' : '*/*', ...headers },
        });
        expect([method, url, reply.status]).toEqual([method, url, 401]);
        expect(reply.body).toMatchObject({ statusCode: 401, missing: 'principal' });
        expect(reply.body.message).toMatch(/principal/);
        expect(reply.text).not.toContain(secret);
      }
    }
    // Nothing was decided by all that.
    expect(await stillPending(booted, id)).toBe(true);
    await request(`${base}/escalations/${id}/reject`, { headers: ALICE, body: {} });
    await expect(call).rejects.toThrow();
  });

  it('answers 401 (never 500, never the error text) when authorize throws', async () => {
    const reply = await request(`${base}/escalations/pending`, {
      headers: bearer('tok-throws-0123456789'),
    });
    expect(reply.status).toBe(401);
    expect(reply.body).toMatchObject({ statusCode: 401, missing: 'principal' });
    expect(reply.text).not.toContain('token store down');
    expect(reply.text).not.toContain('tok-throws');
  });

  it('says who is signed in', async () => {
    const me = await request(`${base}/me`, { headers: ALICE });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ principal: 'alice@example.com' });
  });

  it('approves as the principal: the held execute() resolves with actorHumanId === principal', async () => {
    const { id, call } = await heldCall(booted, 500);
    const listed = await request(`${base}/escalations/pending`, { headers: ALICE });
    expect(listed.status).toBe(200);
    expect(listed.body.map((r: { id: string }) => r.id)).toContain(id);

    const decided = await request(`${base}/escalations/${id}/approve`, {
      headers: ALICE,
      body: { reason: 'Verified with CFO' },
    });
    expect(decided.status).toBe(200);
    expect(decided.body).toEqual({
      escalationId: id,
      decision: 'APPROVE',
      approverId: 'alice@example.com',
      reason: 'Verified with CFO',
    });
    const result = await call;
    expect(result.allowed).toBe(true);
    expect(result.actorHumanId).toBe('alice@example.com');
    expect(result.escalationId).toBe(id);
  });

  it('refuses a body approverId that is not the principal (403), and the call stays pending', async () => {
    const { id, call } = await heldCall(booted, 600);
    const forged = await request(`${base}/escalations/${id}/approve`, {
      headers: BOB,
      body: { approverId: 'alice@example.com' },
    });
    expect(forged.status).toBe(403);
    expect(forged.body.message).toMatch(/approverId/);
    expect(await stillPending(booted, id)).toBe(true);

    // Naming oneself is fine.
    const own = await request(`${base}/escalations/${id}/reject`, {
      headers: BOB,
      body: { approverId: 'bob', reason: 'Not this month' },
    });
    expect(own.status).toBe(200);
    await expect(call).rejects.toMatchObject({ actorHumanId: 'bob' });
  });

  it('refuses a malformed approverId or reason (400), and a decision that is not JSON (415)', async () => {
    const { id, call } = await heldCall(booted, 700);
    for (const body of [{ approverId: 42 }, { approverId: '' }, { reason: 7 }]) {
      const reply = await request(`${base}/escalations/${id}/approve`, { headers: ALICE, body });
      expect([JSON.stringify(body), reply.status]).toEqual([JSON.stringify(body), 400]);
    }
    // A cross-site form can post text/plain or a form body with the app's cookies, never JSON.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const response = await fetch(`${base}/escalations/${id}/approve`, {
        method: 'POST',
        headers: { ...ALICE, 'Content-Type': contentType },
        body: contentType === 'text/plain' ? '{}' : 'reason=x',
      });
      expect([contentType, response.status]).toEqual([contentType, 415]);
    }
    expect(await stillPending(booted, id)).toBe(true);
    await request(`${base}/escalations/${id}/reject`, { headers: ALICE, body: {} });
    await expect(call).rejects.toThrow();
  });

  it('refuses the agent approving its own call (four eyes): 403, still pending', async () => {
    const { id, call } = await heldCall(booted, 800);
    const self = await request(`${base}/escalations/${id}/approve`, { headers: AGENT, body: {} });
    expect(self.status).toBe(403);
    expect(self.body.message).toContain(AGENT_ID);
    expect(await stillPending(booted, id)).toBe(true);

    const other = await request(`${base}/escalations/${id}/approve`, { headers: ALICE, body: {} });
    expect(other.status).toBe(200);
    expect((await call).actorHumanId).toBe('alice@example.com');
  });

  it('answers 404 for an unknown or already decided escalation', async () => {
    const unknown = await request(`${base}/escalations/esc_unknown/approve`, {
      headers: ALICE,
      body: {},
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('esc_unknown');

    const { id, call } = await heldCall(booted, 900);
    expect(
      (await request(`${base}/escalations/${id}/reject`, { headers: ALICE, body: {} })).status,
    ).toBe(200);
    await expect(call).rejects.toThrow();
    expect(
      (await request(`${base}/escalations/${id}/approve`, { headers: BOB, body: {} })).status,
    ).toBe(404);
  });

  it('streams escalations to a principal, the still-pending ones first', async () => {
    const { id, call } = await heldCall(booted, 1000);
    const stream = await SseClient.open(`${base}/escalations/stream`, ALICE);
    streams.push(stream);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = await stream.next();
    expect(first.event).toBe('pending');
    expect(JSON.parse(first.data)).toMatchObject({ escalationId: id, agentId: AGENT_ID });

    await request(`${base}/escalations/${id}/approve`, { headers: ALICE, body: {} });
    const approved = JSON.parse((await stream.next((e) => e.event === 'approved')).data);
    expect(approved).toMatchObject({ escalationId: id, approverId: 'alice@example.com' });
    await call;
  });
});

describe.each<Platform>(['express', 'fastify'])(
  'ProvenanceReviewModule at a custom path on %s',
  (platform) => {
    let booted: Booted;

    beforeAll(async () => {
      booted = await boot(
        platform,
        ProvenanceReviewModule.forRootAsync({
          path: '/ops/approvals/',
          useFactory: () => ({ authorize: async (request: ReviewRequest) => authorize(request) }),
        }),
      );
    });

    afterAll(async () => {
      await booted?.app.close();
    });

    it('serves the page and the API under that path only', async () => {
      const base = `${booted.url}/ops/approvals`;
      expect((await request(base)).status).toBe(200);
      expect((await request(`${base}/escalations/pending`)).status).toBe(401);
      expect((await request(`${base}/me`, { headers: BOB })).body).toEqual({ principal: 'bob' });
      expect((await request(`${booted.url}/provenance/review`)).status).toBe(404);

      const { id, call } = await heldCall(booted, 1100);
      const decided = await request(`${base}/escalations/${id}/approve`, {
        headers: BOB,
        body: {},
      });
      expect(decided.status).toBe(200);
      expect((await call).actorHumanId).toBe('bob');
    });
  },
);

/** The app's own auth, as docs/escalations.md shows it: a global guard that sets req.user. */
@Injectable()
class AppTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<ReviewRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header)?.[1] : undefined;
    const email = token === undefined ? undefined : TOKENS[token];
    request.user = email === undefined ? undefined : { email, roles: ['approver'] };
    return true;
  }
}

describe.each<Platform>(['express', 'fastify'])(
  "ProvenanceReviewModule with authorize reading the app guard's req.user on %s",
  (platform) => {
    let booted: Booted;

    beforeAll(async () => {
      booted = await boot(
        platform,
        ProvenanceReviewModule.forRoot({
          path: 'review',
          authorize: (req) => (req.user?.roles?.includes('approver') ? req.user.email : null),
        }),
        [{ provide: APP_GUARD, useClass: AppTokenGuard }],
      );
    });

    afterAll(async () => {
      await booted?.app.close();
    });

    it('sees the user the app guard set, and refuses a request without one', async () => {
      const base = `${booted.url}/review`;
      expect((await request(`${base}/me`)).status).toBe(401);
      expect((await request(`${base}/me`, { headers: ALICE })).body).toEqual({
        principal: 'alice@example.com',
      });
      const { id, call } = await heldCall(booted, 1200);
      expect(
        (await request(`${base}/escalations/${id}/approve`, { headers: ALICE, body: {} })).status,
      ).toBe(200);
      expect((await call).actorHumanId).toBe('alice@example.com');
    });
  },
);

describe('ProvenanceReviewModule on a remote gateway that refuses the app key', () => {
  let server: INestApplication;
  let booted: Booted;
  const apiKey = generateApiKey('test');

  beforeAll(async () => {
    // The gateway separates the roles: the app's (agent) key may not list or decide escalations.
    server = await createGatewayServer(
      {
        keys: [{ key: apiKey, tenantId: 'acme', policy: POLICY }],
        audit: { store: 'memory' },
        escalationTimeoutMs: 20_000,
      },
      { logger: false },
    );
    await server.listen(0, '127.0.0.1');
    const { port } = server.getHttpServer().address() as { port: number };
    booted = await boot('express', ProvenanceReviewModule.forRoot({ authorize }), [], {
      gatewayUrl: `http://127.0.0.1:${port}`,
      apiKey,
    });
  });

  afterAll(async () => {
    await booted?.app.close();
    await server?.close();
  });

  it('answers 403 (never 500) to a principal, and the API key is in no answer', async () => {
    const base = `${booted.url}/provenance/review`;
    const listed = await request(`${base}/escalations/pending`, { headers: ALICE });
    expect(listed.status).toBe(403);
    expect(listed.text).not.toContain(apiKey);
    const { id, call } = await heldCall(booted, 1300);
    const decided = await request(`${base}/escalations/${id}/approve`, {
      headers: ALICE,
      body: {},
    });
    expect(decided.status).toBe(403);
    expect(decided.text).not.toContain(apiKey);
    // Still held on the gateway: the app's call has not been let through.
    const settled = await Promise.race([
      call.then(
        () => 'resolved',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(() => resolve('held'), 300)),
    ]);
    expect(settled).toBe('held');
  });
});

describe('ProvenanceReviewModule options', () => {
  it('refuses to start without an authorize function (fail closed)', () => {
    expect(() => ProvenanceReviewModule.forRoot({} as never)).toThrow(ProvenanceConfigError);
    expect(() => ProvenanceReviewModule.forRoot({ authorize: 'yes' } as never)).toThrow(
      /authorize/,
    );
  });

  it('refuses a path that is not a plain URL path', () => {
    for (const path of ['review?x=1', 'a/../b', 'a//b', 'rev#iew', ':id', 42]) {
      expect(() => ProvenanceReviewModule.forRoot({ path: path as never, authorize })).toThrow(
        /path/,
      );
    }
  });

  it('refuses a forRootAsync factory that gives no authorize, at start-up', async () => {
    await expect(
      boot('express', ProvenanceReviewModule.forRootAsync({ useFactory: () => ({}) as never })),
    ).rejects.toThrow(/authorize/);
  });
});
