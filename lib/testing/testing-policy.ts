import { compilePolicy } from '../engine/policy/policy.compiler';
import { isCompiled } from '../engine/policy/policy-in-force';
import type {
  CompiledPolicy,
  Outcome,
  PolicyDecision,
  PolicyDocument,
  PolicyExplanation,
} from '../engine/policy/policy.types';
import { ProvenanceConfigError, ProvenanceError } from '../protocol/provenance.errors';
import { describeAnswer, TestingMessages } from './testing.messages';

/** What a test's `decide` may answer for one call; `undefined` (or null) lets the policy decide. */
export type TestDecision = Outcome | { decision: Outcome; reason?: string } | null | undefined;

/**
 * Decides a call in a test, before the policy: `(action, parameters) =>
 * action === 'payments.initiate' ? 'ESCALATE' : undefined`. Its answer goes
 * through the real engine like a rule's (recorded in the audit log, held for
 * the reviewer on ESCALATE, raised as PolicyBlockedError on BLOCK).
 */
export type TestDecide = (
  action: string,
  parameters: Record<string, unknown> | null,
) => TestDecision;

const OUTCOMES: ReadonlySet<unknown> = new Set(['ALLOW', 'BLOCK', 'ESCALATE']);

/** With `decide` and no policy: every call `decide` leaves open is blocked (fail closed). */
const BLOCK_THE_REST: PolicyDocument = {
  name: 'provenance-testing',
  rules: [{ action: '*', on_match: 'BLOCK', reason: TestingMessages.undecidedByTest() }],
};

/**
 * The policy the testing module's engine evaluates: the given one, with the
 * test's `decide` asked first. Without `decide` it is the given policy as is.
 */
export function testingPolicyOf(
  policy: string | PolicyDocument | CompiledPolicy | undefined,
  decide: TestDecide | undefined,
): string | PolicyDocument | CompiledPolicy {
  if (decide !== undefined && typeof decide !== 'function') {
    throw new ProvenanceConfigError(
      'decide',
      TestingMessages.badDecideAnswer('(forRoot)', describeAnswer(decide)),
    );
  }
  if (policy === undefined || policy === null) {
    if (decide === undefined)
      throw new ProvenanceConfigError('policy', TestingMessages.nothingDecides());
    return withDecide(compilePolicy(BLOCK_THE_REST), decide);
  }
  if (decide === undefined) return policy;
  const base = isCompiled(policy) ? policy : compilePolicy(policy);
  return withDecide(base, decide);
}

function withDecide(base: CompiledPolicy, decide: TestDecide): CompiledPolicy {
  const own = (action: string, parameters: Record<string, unknown> | null | undefined) =>
    answerOf(action, decide(action, parameters ?? null));
  return {
    document: base.document,
    source: base.source,
    hash: base.hash,
    version: base.version,
    evaluate(action, parameters): PolicyDecision {
      return own(action, parameters) ?? base.evaluate(action, parameters);
    },
    explain(action, parameters): PolicyExplanation {
      const explained = base.explain(action, parameters);
      const decided = own(action, parameters);
      return decided === null ? explained : { ...explained, ...decided };
    },
  };
}

/** A `decide` answer as the engine's decision; null for "let the policy decide". Anything else throws. */
function answerOf(action: string, answer: TestDecision): PolicyDecision | null {
  if (answer === undefined || answer === null) return null;
  const decision = typeof answer === 'object' ? answer.decision : answer;
  const reason = typeof answer === 'object' ? answer.reason : undefined;
  if (!OUTCOMES.has(decision) || (reason !== undefined && typeof reason !== 'string')) {
    // Thrown inside the engine's evaluation: the call fails (GatewayError), it is never allowed.
    throw new ProvenanceError(TestingMessages.badDecideAnswer(action, describeAnswer(answer)));
  }
  return {
    decision: decision as Outcome,
    reason: reason ?? TestingMessages.decidedByTest(decision as Outcome),
    ruleIndex: -1,
  };
}
