import {
  Decision,
  type ExecutionResult,
  type PolicyDocument,
  type ProvenanceGateway,
  type ProvenanceReviewer,
} from '../../../lib';

/**
 * The policy of these tests, and what it says by docs/policy.md's rules:
 * payments.initiate up to 100 → ALLOW; over 100 → ESCALATE; data.delete → BLOCK.
 */
export const DEFERRED_POLICY: PolicyDocument = {
  name: 'deferred-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Payments over 100 need a human',
    },
    { action: 'data.delete', on_match: 'BLOCK', reason: 'Deleting data is not allowed' },
  ],
};

export const APPROVER = 'cfo@example.com';

/** Where the flow runs: the agent's gateway, the reviewers, and where the identical call is retried. */
export interface DeferredSides {
  agent: ProvenanceGateway;
  /** Decides as `APPROVER`. */
  reviewer: ProvenanceReviewer;
  /** Where the retry runs (another replica); the agent's gateway by default. */
  retry?: ProvenanceGateway;
  /** The ids the gateway still holds (asked of the gateway, not of this process). */
  pendingIds(): Promise<string[]>;
}

/** Asserts an interim ESCALATE: not run, an escalation id, not allowed, not blocked. */
export function expectDeferred(result: ExecutionResult): string {
  expect(result.decision).toBe(Decision.ESCALATE);
  expect(result.allowed).toBe(false);
  expect(result.escalationId).toEqual(expect.any(String));
  return result.escalationId as string;
}

/**
 * The whole story of a deferred call: held, left pending, approved, the
 * identical retry allowed once as the approver, the grant not reusable nor
 * good for other parameters; a rejection leaves no grant.
 */
export async function approvedDeferredCall(sides: DeferredSides): Promise<string> {
  const { agent, reviewer } = sides;
  const retry = sides.retry ?? agent;
  const call = { amount: 800, to: 'acct_1' };
  const escalationId = expectDeferred(await agent.executeDeferred('payments.initiate', call));
  // Resolved, and the gateway still holds it for a reviewer: it was not withdrawn.
  expect(await sides.pendingIds()).toContain(escalationId);
  await reviewer.approve(escalationId, { approverId: APPROVER, reason: 'verified' });
  expect(await sides.pendingIds()).not.toContain(escalationId);

  // Other parameters: the grant does not cover them.
  const other = await retry.executeDeferred('payments.initiate', { amount: 801, to: 'acct_1' });
  expect(expectDeferred(other)).not.toBe(escalationId);

  // The identical call: allowed once, as the approver, naming the escalation it came from.
  const allowed = await retry.execute('payments.initiate', { to: 'acct_1', amount: 800 });
  expect([allowed.decision, allowed.actorHumanId, allowed.escalationId]).toEqual([
    Decision.ALLOW,
    APPROVER,
    escalationId,
  ]);
  // Single use: the same call again is held again.
  const again = await retry.executeDeferred('payments.initiate', call);
  expect(expectDeferred(again)).not.toBe(escalationId);
  return escalationId;
}

/** A rejected deferred call leaves no grant: the identical call is held again. */
export async function rejectedDeferredCall(sides: DeferredSides): Promise<void> {
  const { agent, reviewer } = sides;
  const call = { amount: 300, to: 'acct_2' };
  const first = expectDeferred(await agent.executeDeferred('payments.initiate', call));
  await reviewer.reject(first, { approverId: APPROVER, reason: 'no' });
  const again = expectDeferred(
    await (sides.retry ?? agent).executeDeferred('payments.initiate', call),
  );
  expect(again).not.toBe(first);
}

/** ALLOW and BLOCK answer exactly as execute(). */
export async function decidedAsExecute(agent: ProvenanceGateway): Promise<void> {
  const allowed = await agent.executeDeferred('payments.initiate', { amount: 50 });
  expect([allowed.decision, allowed.escalationId]).toEqual([Decision.ALLOW, null]);
  const viaDeferred = await agent
    .executeDeferred('data.delete', { id: 1 })
    .catch((e: unknown) => e);
  const viaExecute = await agent.execute('data.delete', { id: 1 }).catch((e: unknown) => e);
  expect(viaDeferred).toBeInstanceOf(Error);
  expect((viaDeferred as Error).constructor).toBe((viaExecute as Error).constructor);
  expect((viaDeferred as Error).name).toBe('PolicyBlockedError');
  expect((viaDeferred as Error).message).toBe((viaExecute as Error).message);
}
