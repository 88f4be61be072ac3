/*
 * Issue 7, item 2: 401, 403, 404 and 422 are configuration errors. They raise
 * GatewayError even with onGatewayError 'open' (docs/protocol.md, "Fail-open"), say what to fix,
 * and never carry the API key, even when the server echoes it back.
 */
import { inspect } from 'node:util';
import { GatewayError } from '../../lib/protocol/provenance.errors';
import {
  startReferenceGateway,
  type ReferenceGateway,
} from '../fixtures/reference-gateway.fixture';
import { bootToolApp, rejectionOf, type ToolApp } from './reliability.fixture';

interface AuthCase {
  name: string;
  status: number;
  /** Sets up the fault; returns the key the app uses and, if any, a path suffix for gatewayUrl. */
  arrange: (gateway: ReferenceGateway) => { apiKey: string; basePath?: string };
  /** What the message must tell the user. */
  says: RegExp;
}

// A key of the documented shape that the gateway does not know.
const WRONG_KEY = 'pk_live_WrongKeyWrongKeyWrongKeyWrongKeyWrongKey123';

const CASES: AuthCase[] = [
  {
    name: '401 from a real key check (the key is wrong)',
    status: 401,
    arrange: () => ({ apiKey: WRONG_KEY }),
    says: /rejected the API key \(401\).*apiKey option \/ PROVENANCE_API_KEY/,
  },
  {
    name: '401 whose body echoes the key',
    status: 401,
    arrange: (g) => {
      g.nextResponse({
        status: 401,
        body: { detail: { message: `Invalid api-key or revoked api-key: ${g.apiKey}` } },
      });
      return { apiKey: g.apiKey };
    },
    says: /rejected the API key \(401\)/,
  },
  {
    name: '403 whose body echoes the key',
    status: 403,
    arrange: (g) => {
      g.nextResponse({
        status: 403,
        body: { detail: { message: `key ${g.apiKey} has no access to this tenant policy` } },
      });
      return { apiKey: g.apiKey };
    },
    says: /refused this API key access \(403\).*tenant and scope/,
  },
  {
    name: '404 from a real wrong base URL',
    status: 404,
    arrange: (g) => ({ apiKey: g.apiKey, basePath: '/api' }),
    says: /\/api\/v1\/gateway\/execute not found \(404\): is gatewayUrl the gateway's base URL\?/,
  },
  {
    name: '422 whose validation body echoes the key in msg and input',
    status: 422,
    arrange: (g) => {
      g.nextResponse({
        status: 422,
        body: {
          detail: [
            {
              type: 'enum',
              loc: ['body', 'decision'],
              msg: `Input should be 'ALLOW', 'BLOCK' or 'ESCALATE' (${g.apiKey})`,
              input: { api_key: g.apiKey },
            },
          ],
        },
      });
      return { apiKey: g.apiKey };
    },
    says: /rejected the request .* as invalid \(422\): body\.decision: Input should be/,
  },
];

/** Every way an error reaches a log or a bug report. */
function renderings(error: Error): Record<string, string> {
  return {
    message: error.message,
    stack: String(error.stack),
    json: JSON.stringify(error, Object.getOwnPropertyNames(error)),
    inspect: inspect(error, { depth: Infinity, showHidden: true }),
    cause: inspect((error as GatewayError).cause, { depth: Infinity, showHidden: true }),
    string: String(error),
  };
}

describe('auth and configuration faults (item 2)', () => {
  let gateway: ReferenceGateway;
  let booted: ToolApp | null = null;

  beforeEach(async () => {
    gateway = await startReferenceGateway();
  });

  afterEach(async () => {
    await booted?.app.close();
    booted = null;
    await gateway.close();
  });

  describe.each(['open', 'closed'] as const)("onGatewayError: '%s'", (mode) => {
    it.each(CASES.map((fault) => [fault.name, fault] as const))(
      '%s: raises a helpful GatewayError without the key; the body never runs',
      async (_name, fault) => {
        const { apiKey, basePath = '' } = fault.arrange(gateway);
        booted = await bootToolApp({
          gatewayUrl: gateway.url + basePath,
          agentId: 'agent-auth',
          apiKey,
          onGatewayError: mode,
          timeout: 5_000,
        });
        const { tool, logger } = booted;

        const error = await rejectionOf(tool.run('x'));

        expect(error).toBeInstanceOf(GatewayError);
        const gatewayError = error as GatewayError;
        expect({ kind: gatewayError.kind, status: gatewayError.status }).toEqual({
          kind: 'status',
          status: fault.status,
        });
        expect(gatewayError.failOpenEligible).toBe(false);
        expect(gatewayError.message).toMatch(fault.says);
        expect(tool.runs).toBe(0);
        // The request did reach the gateway with the key: the key was in play.
        expect(gateway.requests.at(-1)?.headers['x-provenance-api-key']).toBe(apiKey);
        for (const [where, text] of Object.entries(renderings(error))) {
          expect({ where, leaks: text.includes(apiKey) }).toEqual({ where, leaks: false });
        }
        expect(logger.text()).not.toContain(apiKey);
        expect(logger.text()).not.toMatch(/ALLOWED/);
      },
    );
  });

  it('inspecting or serialising the gateway service and its client never prints the key', async () => {
    booted = await bootToolApp({
      gatewayUrl: gateway.url,
      agentId: 'agent-auth',
      apiKey: gateway.apiKey,
    });
    const { gateway: provenance } = booted;
    // A logger that dumps the injected service, as people do when debugging.
    expect(inspect(provenance, { depth: Infinity, showHidden: true })).not.toContain(
      gateway.apiKey,
    );
    expect(JSON.stringify(provenance.client)).not.toContain(gateway.apiKey);
    expect(inspect(provenance.gatewayTransport, { depth: Infinity })).not.toContain(gateway.apiKey);
  });
});
