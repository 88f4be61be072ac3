import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine } from '../../lib/engine/engine.factory';
import { ProvenanceReviewer } from '../../lib/escalation/provenance.reviewer';
import { ProvenanceGateway } from '../../lib/gateway/provenance.gateway';
import { Guarded } from '../../lib/guarded/guarded.decorator';
import type { PolicyDocument } from '../../lib/engine/policy/policy.types';
import {
  InvalidParametersError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../lib/protocol/provenance.errors';
import { SESSION_ID_PATTERN } from '../../lib/protocol/session-id';
import {
  PLATFORMS,
  call,
  eventually,
  startServer,
  type TestServer,
} from '../e2e/server/server.helpers';

/*
 * Findings 3, 9 and 10 of the trust review: what enters at the edge (the
 * server's bodies, the client's options, the reviewer) ends up in the audit
 * trail, `provenance audit tail`, logs and dashboards. An agent_id, approver_id
 * or action with a newline or an escape sequence forged a line of `audit tail`;
 * any session_id (`""`, `../../etc/passwd\n\0`) was accepted by the server; an
 * 80 KB action was matched against every glob of the policy. Each is now
 * refused where it enters, with an error naming the field and the rule, and
 * nothing of it is recorded.
 */

/** The limits (lib/protocol/action.ts MAX_ACTION_LENGTH, identity.ts MAX_IDENTITY_LENGTH), in characters. */
const MAX_ACTION_LENGTH = 256;
const MAX_IDENTITY_LENGTH = 256;

const SESSION = 'sess_0123456789abcdef';
const AGENT = 'agent-edge';
const MARK = 'FORGED-LINE';

/** Values that forge or disguise a line: C0 (newline, CR, ESC, NUL), DEL, C1, U+2028, bidi controls. */
const HOSTILE: Array<[string, string]> = [
  ['a newline', `agent\n2025-01-01T00:00:00Z ALLOW payments.initiate ${MARK}`],
  ['a carriage return', `agent\r${MARK}`],
  ['an ANSI escape', `agent\u001b[2K\u001b[1G${MARK}`],
  ['NUL', `agent\u0000${MARK}`],
  ['DEL', `agent\u007f${MARK}`],
  ['a C1 control (NEL)', `agent\u0085${MARK}`],
  ['a C1 CSI', `agent\u009b2K${MARK}`],
  ['the line separator U+2028', `agent\u2028${MARK}`],
  ['the paragraph separator U+2029', `agent\u2029${MARK}`],
  ['a bidi override U+202E', `agent\u202e${MARK}`],
  ['a bidi isolate U+2066', `agent\u2066${MARK}`],
];

function executeBody(overrides: Record<string, unknown> = {}) {
  return {
    session_id: SESSION,
    agent_id: AGENT,
    action: 'email.send',
    parameters: { to: 'x' },
    decision: 'ALLOW',
    ...overrides,
  };
}

function auditText(server: TestServer): string {
  let text = '';
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else text += fs.readFileSync(full, 'utf8');
    }
  };
  walk(server.auditDir);
  return text;
}

describe.each(PLATFORMS)('the server refuses hostile identities at the edge (%s)', (platform) => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer(platform);
  });
  afterEach(async () => {
    await server.close();
  });

  it.each(HOSTILE)(
    'agent_id with %s: 422 naming agent_id, nothing recorded',
    async (_what, value) => {
      const response = await call(
        server,
        'POST',
        '/v1/gateway/execute',
        executeBody({ agent_id: value }),
      );
      expect(response.status).toBe(422);
      expect(response.body.detail).toEqual([
        expect.objectContaining({
          type: 'value_error',
          loc: ['body', 'agent_id'],
          msg: expect.stringMatching(
            /^Value error, agent_id contains the .* U\+[0-9A-F]{4} at index 5; it must be /,
          ),
          input: value,
        }),
      ]);
      expect(auditText(server)).not.toContain(MARK);
    },
  );

  it.each(HOSTILE)('action with %s: 422 naming action, nothing recorded', async (_what, value) => {
    const response = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      executeBody({ action: value }),
    );
    expect(response.status).toBe(422);
    expect(response.body.detail).toEqual([
      expect.objectContaining({ type: 'value_error', loc: ['body', 'action'], input: value }),
    ]);
    expect(auditText(server)).not.toContain(MARK);
  });

  it('an empty or blank agent_id or action is refused', async () => {
    const empty = await call(server, 'POST', '/v1/gateway/execute', executeBody({ agent_id: '' }));
    expect(empty.status).toBe(422);
    expect(empty.body.detail).toEqual([
      {
        type: 'string_too_short',
        loc: ['body', 'agent_id'],
        msg: 'String should have at least 1 character',
        input: '',
        ctx: { min_length: 1 },
      },
    ]);
    for (const field of ['agent_id', 'action']) {
      const blank = await call(
        server,
        'POST',
        '/v1/gateway/execute',
        executeBody({ [field]: '  \t ' }),
      );
      expect(blank.status).toBe(422);
      expect(blank.body.detail).toEqual([
        expect.objectContaining({
          type: 'value_error',
          loc: ['body', field],
          msg: expect.stringContaining('is empty or only white space'),
        }),
      ]);
    }
  });

  it(`an action over ${MAX_ACTION_LENGTH} characters is a 422 naming the limit (an 80 KB one included)`, async () => {
    for (const action of ['a'.repeat(MAX_ACTION_LENGTH + 1), `${'x.'.repeat(40_000)}delete`]) {
      const response = await call(server, 'POST', '/v1/gateway/execute', executeBody({ action }));
      expect(response.status).toBe(422);
      expect(response.body.detail).toEqual([
        {
          type: 'string_too_long',
          loc: ['body', 'action'],
          msg: `String should have at most 256 characters (got ${action.length})`,
          input: action,
          ctx: { max_length: 256 },
        },
      ]);
    }
    // Exactly at the limit, and counted in characters (code points), not UTF-16 units.
    for (const action of ['a'.repeat(MAX_ACTION_LENGTH), '😀'.repeat(MAX_ACTION_LENGTH)]) {
      const response = await call(server, 'POST', '/v1/gateway/execute', executeBody({ action }));
      expect(response.status).toBe(200);
    }
  });

  it(`an agent_id over ${MAX_IDENTITY_LENGTH} characters is a 422; unicode names are fine`, async () => {
    const long = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      executeBody({ agent_id: 'a'.repeat(MAX_IDENTITY_LENGTH + 1) }),
    );
    expect(long.status).toBe(422);
    expect(long.body.detail).toEqual([
      expect.objectContaining({
        type: 'string_too_long',
        loc: ['body', 'agent_id'],
        ctx: { max_length: 256 },
      }),
    ]);
    for (const agent_id of ['agent-é-😀', 'Zoë‍👩‍💻', 'محمد', 'a'.repeat(MAX_IDENTITY_LENGTH)]) {
      const fine = await call(server, 'POST', '/v1/gateway/execute', executeBody({ agent_id }));
      expect(fine.status).toBe(200);
    }
  });

  it.each([
    ['empty', ''],
    ['a path with a newline and NUL', '../../etc/passwd\n\u0000'],
    ['too long', 's'.repeat(129)],
    ['with a space', 'sess 1'],
  ])(
    'session_id %s: 422 naming session_id and the pattern (finding 10)',
    async (_what, session_id) => {
      const response = await call(
        server,
        'POST',
        '/v1/gateway/execute',
        executeBody({ session_id }),
      );
      expect(response.status).toBe(422);
      expect(response.body.detail).toEqual([
        {
          type: 'string_pattern_mismatch',
          loc: ['body', 'session_id'],
          msg: `String should match pattern '${SESSION_ID_PATTERN.source}'`,
          input: session_id,
          ctx: { pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      ]);
    },
  );

  it('every broken field is named in one answer', async () => {
    const response = await call(
      server,
      'POST',
      '/v1/gateway/execute',
      executeBody({ session_id: '', agent_id: `a\n${MARK}`, action: 'b'.repeat(300) }),
    );
    expect(response.status).toBe(422);
    expect(response.body.detail.map((issue: { loc: string[] }) => issue.loc[1])).toEqual([
      'session_id',
      'agent_id',
      'action',
    ]);
  });
});

describe.each(PLATFORMS)('the server refuses a hostile approver_id (%s)', (platform) => {
  let server: TestServer;

  beforeEach(async () => {
    // The reference behaviour (any key decides, as the body's approver_id says): the
    // one way an approver name reaches the audit trail from a request body.
    server = await startServer(platform, { reviewAnyKey: true });
  });
  afterEach(async () => {
    await server.close();
  });

  it.each(HOSTILE)(
    'approver_id with %s: 422, and the escalation stays pending',
    async (_what, value) => {
      const raised = await call(
        server,
        'POST',
        '/v1/gateway/execute',
        executeBody({ action: 'payments.initiate', parameters: { amount: 800 } }),
        { Prefer: 'respond-async' },
      );
      expect(raised.status).toBe(202);
      const id = raised.body.escalation_id as string;
      const decided = await call(server, 'POST', `/v1/escalations/${id}/decide`, {
        decision: 'APPROVE',
        approver_id: value,
        reason: 'looks fine',
      });
      expect(decided.status).toBe(422);
      expect(decided.body.detail).toEqual([
        expect.objectContaining({
          type: 'value_error',
          loc: ['body', 'approver_id'],
          input: value,
        }),
      ]);
      const pending = await call(server, 'GET', '/v1/escalations/pending');
      expect(pending.body.escalations.map((e: { id: string }) => e.id)).toContain(id);
      expect(auditText(server)).not.toContain(MARK);
      // A clean name still decides it.
      const approved = await call(server, 'POST', `/v1/escalations/${id}/decide`, {
        decision: 'APPROVE',
        approver_id: 'cfo@example.com',
      });
      expect(approved.status).toBe(200);
    },
  );

  it(`an approver_id over ${MAX_IDENTITY_LENGTH} characters is a 422`, async () => {
    const decided = await call(server, 'POST', '/v1/escalations/any/decide', {
      decision: 'REJECT',
      approver_id: 'x'.repeat(MAX_IDENTITY_LENGTH + 1),
    });
    expect(decided.status).toBe(422);
    expect(decided.body.detail).toEqual([
      expect.objectContaining({ type: 'string_too_long', loc: ['body', 'approver_id'] }),
    ]);
  });
});

const POLICY: PolicyDocument = {
  name: 'edge',
  rules: [{ action: 'payments.*', on_match: 'ESCALATE', reason: 'a human decides payments' }],
};

const QUIET = { log() {}, warn() {}, error() {} };

function gateway(agentId: string = AGENT): ProvenanceGateway {
  return new ProvenanceGateway({
    agentId,
    policy: POLICY,
    audit: { store: 'memory' },
    escalationTimeout: 5_000,
    logger: QUIET,
  });
}

/** The message shows the value with its control characters escaped, never raw. */
function expectNoRawControls(message: string): void {
  const raw = Array.from(message).filter((char) => {
    const c = char.codePointAt(0) as number;
    return (
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x2028 && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069)
    );
  });
  expect(raw).toEqual([]);
}

describe('the client refuses hostile identities and actions before anything is sent', () => {
  it.each(HOSTILE)('agentId with %s: ProvenanceConfigError naming agentId', (_what, value) => {
    let error: unknown;
    try {
      gateway(value).close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect((error as ProvenanceConfigError).option).toBe('agentId');
    expect((error as Error).message).toMatch(
      /`agentId` must be a non-empty string .* at most 256 characters/,
    );
    expect((error as Error).message).toMatch(/\(it contains the .* U\+[0-9A-F]{4} at index 5\)/);
    expectNoRawControls((error as Error).message);
  });

  it(`agentId over ${MAX_IDENTITY_LENGTH} characters is refused; a blank one is still "required"`, () => {
    expect(() => gateway('a'.repeat(257))).toThrow(/is 257 characters long; the limit is 256/);
    expect(() => gateway('   ')).toThrow(/`agentId` is required/);
  });

  describe('with a gateway', () => {
    let gw: ProvenanceGateway;
    beforeEach(() => {
      gw = gateway();
    });
    afterEach(() => gw.close());

    it(`execute() refuses an action over ${MAX_ACTION_LENGTH} characters, naming the limit and the length`, async () => {
      const action = 'payments.' + 'a'.repeat(300);
      await expect(gw.execute(action, { amount: 1 })).rejects.toThrow(
        /at most 256 characters.*\(it is 309 characters long; the limit is 256\)/,
      );
      expect(await gw.audit!.count()).toBe(0);
      expect(gw.pendingEscalationEvents()).toEqual([]);
    });

    it.each(HOSTILE)(
      'execute() refuses an action with %s, and the message escapes it',
      async (_what, value) => {
        const error = await gw.execute(value, {}).then(
          () => null,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(ProvenanceError);
        expect((error as Error).message).toMatch(/contains the .* U\+[0-9A-F]{4} at index 5/);
        expectNoRawControls((error as Error).message);
        expect(await gw.audit!.count()).toBe(0);
      },
    );

    it('gateway.guard() and @Guarded refuse a long action where they are written', () => {
      expect(() => gw.guard('a'.repeat(257))).toThrow(/is 257 characters long; the limit is 256/);
      expect(() => {
        class Tools {
          @Guarded('t'.repeat(300))
          async run(): Promise<void> {}
        }
        return Tools;
      }).toThrow(/is 300 characters long; the limit is 256/);
    });

    it.each(HOSTILE)(
      'ProvenanceReviewer refuses an approverId with %s; the escalation stays pending',
      async (_what, value) => {
        const reviewer = new ProvenanceReviewer(gw);
        const held = gw.execute('payments.initiate', { amount: 800 });
        const [pending] = await eventually(async () => {
          const list = await reviewer.pending();
          return list.length > 0 ? list : undefined;
        });
        for (const decide of [reviewer.approve, reviewer.reject]) {
          const error = await decide.call(reviewer, pending.id, { approverId: value }).then(
            () => null,
            (caught: unknown) => caught,
          );
          expect(error).toBeInstanceOf(ProvenanceError);
          expect((error as Error).message).toMatch(/needs `approverId`.*at most 256 characters/);
          expectNoRawControls((error as Error).message);
        }
        expect((await reviewer.pending()).map((record) => record.id)).toEqual([pending.id]);
        const events = await gw.audit!.list();
        expect(JSON.stringify(events)).not.toContain(MARK);
        await reviewer.reject(pending.id, { approverId: 'cfo@example.com' });
        await expect(held).rejects.toThrow();
      },
    );

    it(`ProvenanceReviewer refuses an approverId over ${MAX_IDENTITY_LENGTH} characters`, async () => {
      const reviewer = new ProvenanceReviewer(gw);
      await expect(reviewer.approve('any', { approverId: 'x'.repeat(257) })).rejects.toThrow(
        /is 257 characters long; the limit is 256/,
      );
    });
  });
});

describe("the engine's public execute() keeps the action rule too", () => {
  it(`refuses an action over ${MAX_ACTION_LENGTH} characters or with a control character`, async () => {
    const { engine, audit } = createEngine({ policy: POLICY, audit: { store: 'memory' } });
    await audit.open();
    const request = (action: string) => ({
      sessionId: SESSION,
      agentId: AGENT,
      action,
      parameters: null,
      decision: 'ALLOW' as const,
      tenantPolicyId: null,
      idempotencyKey: null,
    });
    for (const [action, why] of [
      ['a'.repeat(MAX_ACTION_LENGTH + 1), /it is 257 characters long; the limit is 256/],
      [`${'x.'.repeat(40_000)}delete`, /it is 80006 characters long; the limit is 256/],
      [`email.send\n${MARK}`, /contains the control character U\+000A at index 10/],
    ] as const) {
      const error = await engine.execute(request(action)).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(InvalidParametersError);
      expect((error as InvalidParametersError).path).toBe('action');
      expect((error as Error).message).toMatch(why);
    }
    expect(await audit.count()).toBe(0);
    await expect(engine.execute(request('a'.repeat(MAX_ACTION_LENGTH)))).resolves.toMatchObject({
      decision: 'ALLOW',
    });
    await audit.close();
  });
});
