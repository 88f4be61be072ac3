/*
 * Issue 7, item 1: every way an HTTP gateway can fail, through a real Nest app
 * and a @Guarded method, with onGatewayError 'closed' and 'open'.
 *
 * Expected outcomes come from docs/protocol.md ("Fail-open": "fail open only when the gateway
 * could not be reached or answered 5xx") and the mapping table in
 * lib/transport/http/http-gateway.errors.ts, not from running the code.
 */
import { GatewayError, ProvenanceError } from '../../lib/protocol/provenance.errors';
import {
  startReferenceGateway,
  type ReferenceGateway,
} from '../fixtures/reference-gateway.fixture';
import { bootToolApp, closedPortUrl, rejectionOf, type ToolApp } from './reliability.fixture';

type Kind = GatewayError['kind'];

interface FaultCase {
  name: string;
  /** Scripts the fault on the reference gateway. */
  arrange?: (gateway: ReferenceGateway, redirectTarget: ReferenceGateway) => void;
  /** Talk to a refused port instead of the gateway. */
  refused?: boolean;
  timeout?: number;
  asyncEscalation?: boolean;
  /** What the GatewayError says, worked out from the mapping table. */
  kind: Kind;
  status: number | null;
  /** Whether `onGatewayError: 'open'` may let the call through. */
  failsOpen: boolean;
  /** A word the message must contain, so that it tells the user what happened. */
  says: RegExp;
}

const ALLOW_BODY = {
  event_id: 'e-1',
  decision: 'ALLOW',
  reason: 'No rule matched; default ALLOW',
  escalation_id: null,
  actor_human_id: null,
};

const CASES: FaultCase[] = [
  {
    name: 'connection refused',
    refused: true,
    kind: 'unreachable',
    status: null,
    failsOpen: true,
    says: /could not be reached.*ECONNREFUSED/,
  },
  {
    name: 'reset before any response (the request was written)',
    arrange: (g) => g.nextResponse({ destroy: 'before-response' }),
    kind: 'interrupted',
    status: null,
    failsOpen: false,
    says: /broke before it answered/,
  },
  {
    name: 'reset mid-response (headers sent, body cut)',
    arrange: (g) => g.nextResponse({ status: 200, body: ALLOW_BODY, destroy: 'after-headers' }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /broke off/,
  },
  {
    name: 'never answers (timeout option 300 ms)',
    arrange: (g) => g.nextResponse({ hang: true }),
    timeout: 300,
    kind: 'timeout',
    status: null,
    failsOpen: false,
    says: /within 300 ms/,
  },
  // Only a 503 says the gateway did not take the call: a 500 may follow a
  // recorded decision, and a proxy's 502/504 may hide a call held for a human.
  ...[500, 502, 503, 504].map((status): FaultCase => ({
    name: `HTTP ${status}`,
    arrange: (g) => g.nextResponse({ status, body: { detail: 'upstream trouble' } }),
    kind: 'status',
    status,
    failsOpen: status === 503,
    says: new RegExp(`gateway error ${status}.*upstream trouble`),
  })),
  {
    name: '200 with garbage',
    arrange: (g) =>
      g.nextResponse({
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"decision": "ALLOW", oops',
      }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /not valid JSON/,
  },
  {
    name: '200 without a decision',
    arrange: (g) =>
      g.nextResponse({ status: 200, body: { event_id: 'e-1', reason: 'looks fine' } }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /no `decision`/,
  },
  {
    name: '200 with an unknown decision word',
    arrange: (g) => g.nextResponse({ status: 200, body: { ...ALLOW_BODY, decision: 'PROBABLY' } }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /PROBABLY/,
  },
  {
    name: '200 with a lower-case allow (not the wire word)',
    arrange: (g) => g.nextResponse({ status: 200, body: { ...ALLOW_BODY, decision: 'allow' } }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /allow/,
  },
  {
    name: '200 text/html (a proxy page)',
    arrange: (g) =>
      g.nextResponse({
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<html><body>{"decision":"ALLOW"}</body></html>',
      }),
    kind: 'protocol',
    status: 200,
    failsOpen: false,
    says: /content type 'text\/html/,
  },
  {
    name: '302 redirect (never followed)',
    arrange: (g, target) =>
      g.nextResponse({
        status: 302,
        headers: { location: `${target.url}/v1/gateway/execute` },
        body: '',
      }),
    kind: 'protocol',
    status: 302,
    failsOpen: false,
    says: /redirect \(302\)/,
  },
  {
    name: '503 on every long poll after a 202 (the call is held for a human)',
    asyncEscalation: true,
    arrange: (g) => {
      g.nextResponse({
        match: (r) => r.path === '/v1/gateway/execute',
        status: 202,
        body: {
          escalation_id: 'esc-1',
          status: 'PENDING',
          action: 'tool.run',
          reason: 'needs a human',
          created_at: new Date().toISOString(),
          expires_at: null,
        },
      });
      // The first poll, and spares in case a 5xx poll is retried (the wait must fail either way).
      for (let i = 0; i < 4; i++) {
        g.nextResponse({ match: (r) => r.path.endsWith('/wait'), status: 503, body: {} });
      }
    },
    kind: 'protocol',
    status: 503,
    failsOpen: false,
    says: /waiting for the human decision on escalation esc-1/,
  },
];

// On both HTTP clients (the `httpClient` option): every fault maps the same way.
describe.each(['axios', 'node'] as const)(
  'transport faults through a real Nest app and @Guarded (item 1), %s client',
  (httpClient) => {
    let gateway: ReferenceGateway;
    let redirectTarget: ReferenceGateway;
    let booted: ToolApp | null = null;

    beforeEach(async () => {
      gateway = await startReferenceGateway();
      redirectTarget = await startReferenceGateway();
    });

    afterEach(async () => {
      await booted?.app.close();
      booted = null;
      await gateway.close();
      await redirectTarget.close();
    });

    const boot = async (mode: 'closed' | 'open', fault: FaultCase): Promise<ToolApp> => {
      const url = fault.refused ? await closedPortUrl() : gateway.url;
      booted = await bootToolApp({
        gatewayUrl: url,
        agentId: 'agent-faults',
        apiKey: gateway.apiKey,
        onGatewayError: mode,
        timeout: fault.timeout ?? 5_000,
        asyncEscalation: fault.asyncEscalation ?? false,
        httpClient,
      });
      if (!fault.refused) fault.arrange?.(gateway, redirectTarget);
      return booted;
    };

    const expectTheFault = (error: Error, fault: FaultCase): void => {
      expect(error).toBeInstanceOf(GatewayError);
      expect(error).toBeInstanceOf(ProvenanceError);
      const gatewayError = error as GatewayError;
      expect({ kind: gatewayError.kind, status: gatewayError.status }).toEqual({
        kind: fault.kind,
        status: fault.status,
      });
      expect(gatewayError.failOpenEligible).toBe(fault.failsOpen);
      expect(gatewayError.message).toMatch(fault.says);
    };

    describe("onGatewayError: 'closed'", () => {
      it.each(CASES.map((fault) => [fault.name, fault] as const))(
        '%s: raises GatewayError and the body never runs',
        async (_name, fault) => {
          const { tool, logger } = await boot('closed', fault);

          const error = await rejectionOf(tool.run('x'));

          expectTheFault(error, fault);
          expect(tool.runs).toBe(0);
          expect(logger.warnings()).toEqual([]);
          // The redirect target is never contacted: following it would hand it the key.
          expect(redirectTarget.requests).toEqual([]);
        },
      );
    });

    describe("onGatewayError: 'open'", () => {
      it.each(
        CASES.filter((fault) => fault.failsOpen).map((fault) => [fault.name, fault] as const),
      )('%s: the call is ALLOWed, with one warning', async (_name, fault) => {
        const { tool, gateway: provenance, logger } = await boot('open', fault);

        await expect(tool.run('x')).resolves.toBe('ran string');
        expect(tool.runs).toBe(1);
        const warnings = logger.warnings();
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain("'tool.run' ALLOWED because onGatewayError is 'open'");

        // execute() shares the path: the result says it failed open and has no event.
        if (!fault.refused) fault.arrange?.(gateway, redirectTarget);
        const result = await provenance.execute('tool.run', { input: 'y' });
        expect(result).toMatchObject({ decision: 'ALLOW', failedOpen: true, eventId: null });
      });

      it.each(
        CASES.filter((fault) => !fault.failsOpen).map((fault) => [fault.name, fault] as const),
      )(
        '%s: still raises, the body never runs, nothing is logged as allowed',
        async (_name, fault) => {
          const { tool, logger } = await boot('open', fault);

          const error = await rejectionOf(tool.run('x'));

          expectTheFault(error, fault);
          expect(tool.runs).toBe(0);
          expect(logger.text()).not.toMatch(/ALLOWED/);
          expect(redirectTarget.requests).toEqual([]);
        },
      );
    });

    it('a 503 and a reset on the long poll are retried (a poll decides nothing); the human decision still arrives', async () => {
      const fault: FaultCase = {
        name: 'poll blips',
        asyncEscalation: true,
        kind: 'protocol',
        status: null,
        failsOpen: false,
        says: /./,
      };
      gateway.asyncEscalation = true;
      gateway.policy = () => 'ESCALATE';
      const { tool, logger } = await boot('closed', fault);
      gateway.nextResponse({ match: (r) => r.path.endsWith('/wait'), status: 503, body: {} });
      gateway.nextResponse({ match: (r) => r.path.endsWith('/wait'), destroy: 'before-response' });

      const call = tool.run('x');
      const id = await gateway.waitForEscalation();
      expect(gateway.resolve(id, 'APPROVE', 'alice')).toBe(true);

      await expect(call).resolves.toBe('ran string');
      expect(tool.runs).toBe(1);
      expect(gateway.requests.filter((r) => r.path.endsWith('/wait'))).toHaveLength(3);
      expect(logger.warnings()).toEqual([]);
    });

    it('the counts add up: every case is either fail-open eligible or not, as docs/protocol.md lists', () => {
      // Only unreachable and a 503 (before any 202) may fail open.
      expect(CASES.filter((fault) => fault.failsOpen).map((fault) => fault.name)).toEqual([
        'connection refused',
        'HTTP 503',
      ]);
    });
  },
);
