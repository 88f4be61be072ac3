import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEngine, type EngineAuditStore } from '../../../lib/engine/engine.factory';
import type { GatewayRequest } from '../../../lib/protocol/gateway.types';

/*
 * A real audit log for the backtest tests, written by the real engine under
 * ENFORCED, and a CANDIDATE that changes some of its calls. What the
 * candidate must report is worked out by hand in EXPECTED (not by the code
 * under test).
 */

export const ENFORCED = `
name: enforced
version: '7'
rules:
  - action: payments.initiate
    conditions: [{ field: amount, operator: '>', value: 500 }]
    on_match: ESCALATE
    reason: over 500 needs a human
  - action: payments.initiate
    on_match: ALLOW
    reason: small payment
  - action: 'data.*'
    on_match: BLOCK
    reason: no data access
  - action: email.send
    on_match: ALLOW
    reason: email is fine
  - action: '*'
    on_match: BLOCK
    reason: not covered
`;

export const CANDIDATE = `
name: candidate
version: '8'
rules:
  - action: payments.initiate
    conditions: [{ field: amount, operator: '>', value: 850 }]
    on_match: BLOCK
    reason: over 850 is never paid
  - action: payments.initiate
    conditions: [{ field: amount, operator: '>', value: 100 }]
    on_match: ESCALATE
    reason: over 100 needs a human
  - action: payments.initiate
    on_match: ALLOW
    reason: small payment
  - action: data.read
    on_match: ALLOW
    reason: reading is fine
  - action: 'data.*'
    on_match: BLOCK
    reason: no data changes
  - action: '*'
    on_match: BLOCK
    reason: not covered
`;

/** What a backtest of the scenario against CANDIDATE finds (worked out from the two policies above). */
export const EXPECTED = {
  calls: 8,
  unchanged: 3,
  unchangedByDecision: { ALLOW: 2, BLOCK: 0, ESCALATE: 1 },
  changed: 5,
  transitions: [
    ['ALLOW', 'BLOCK', 2],
    ['ALLOW', 'ESCALATE', 1],
    ['ESCALATE', 'BLOCK', 1],
    ['BLOCK', 'ALLOW', 1],
  ],
  skipped: {
    'escalation.approved': 1,
    'grant.created': 1,
    'idempotency conflict': 1,
    'decision.replayed': 1,
  },
};

export function writePolicies(dir: string): { enforced: string; candidate: string } {
  const enforced = path.join(dir, 'enforced.yml');
  const candidate = path.join(dir, 'candidate.yml');
  fs.writeFileSync(enforced, ENFORCED);
  fs.writeFileSync(candidate, CANDIDATE);
  return { enforced, candidate };
}

const call = (
  action: string,
  parameters: Record<string, unknown>,
  extra: Partial<GatewayRequest> = {},
): GatewayRequest => ({
  sessionId: 'sess_bt',
  agentId: 'agent-bt',
  action,
  parameters,
  decision: 'ALLOW',
  ...extra,
});

/**
 * The scenario's calls through a real engine on `audit`: 50 (ALLOW), 200
 * (ALLOW), 800 (held, approved), data.read (BLOCK), email.send twice
 * (ALLOW), a grant then 900 (ESCALATE, the grant used), 60 with an
 * idempotency key (ALLOW), the same key and call again (a replay), and the
 * same key with another call (a conflict).
 */
export async function recordScenario(
  policy: string,
  audit: EngineAuditStore,
  tenantId = 'local',
): Promise<void> {
  const { engine } = createEngine({ policy, audit, tenantId, escalationTimeoutMs: 30_000 });
  try {
    await engine.execute(call('payments.initiate', { amount: 50 }));
    await engine.execute(call('payments.initiate', { amount: 200 }));
    let approve: Promise<unknown> = Promise.resolve();
    const held = engine.execute(call('payments.initiate', { amount: 800 }), {
      onEscalated: (ticket) => {
        approve = engine.decide(ticket.escalationId, 'APPROVE', { approverId: 'alice' });
      },
    });
    expect((await held).decision).toBe('ALLOW');
    await approve;
    await engine.execute(call('data.read', { table: 'customers' }));
    await engine.execute(call('email.send', { to: 'a@example.com' }));
    await engine.execute(call('email.send', { to: 'b@example.com' }, { sessionId: 'sess_other' }));
    await engine.grant({ action: 'payments.initiate', maxUses: 1, reason: 'ok once' }, 'bob');
    expect((await engine.execute(call('payments.initiate', { amount: 900 }))).decision).toBe(
      'ALLOW',
    );
    const keyed = call('payments.initiate', { amount: 60 }, { idempotencyKey: 'k1' });
    await engine.execute(keyed);
    await engine.execute(keyed);
    const conflict = await engine.execute({ ...keyed, parameters: { amount: 61 } });
    expect(conflict.decision).toBe('BLOCK');
  } finally {
    await engine.close();
  }
}
