import { isInlinePolicyText } from './policy-source';
import { loadPolicy } from './policy.loader';
import { PolicyProgram } from './policy.program';
import type {
  CompiledPolicy,
  PolicyDecision,
  PolicyDocument,
  PolicyExplanation,
} from './policy.types';

/**
 * The compile step and the one-shot entry points. What is where:
 * - policy.program.ts: the compiled policy, `evaluate` (the hot path) and `explain`;
 * - policy.rule.ts: one compiled rule and the decisions it yields;
 * - policy.condition.ts: one compiled condition and how it is tested;
 * - policy.rule-index.ts: the literal index, the candidate rules of an action;
 * - policy.explain.ts: the rule-by-rule trace of `explain`.
 * Semantics: docs/policy.md ("Evaluation", "Reasons").
 */

/**
 * Compiles a policy for repeated evaluation. Accepts a file path, policy
 * text (YAML or JSON, see policy-source.ts), a policy object (validated
 * here), or a document from loadPolicy. `source` names where it came from
 * (defaults to the path when given one; null for text and objects).
 */
export function compilePolicy(
  policy: PolicyDocument | string | object,
  source?: string,
): CompiledPolicy {
  if (policy instanceof PolicyProgram && source === undefined) return policy;
  const document = loadPolicy(policy instanceof PolicyProgram ? policy.document : policy);
  const path = typeof policy === 'string' && !isInlinePolicyText(policy) ? policy : null;
  return new PolicyProgram(document, source ?? path);
}

const compiledObjects = new WeakMap<object, CompiledPolicy>();

function asCompiled(policy: CompiledPolicy | PolicyDocument | string | object): CompiledPolicy {
  if (policy instanceof PolicyProgram) return policy;
  if (typeof policy === 'string') return compilePolicy(policy);
  let compiled = compiledObjects.get(policy);
  if (compiled === undefined) {
    compiled = compilePolicy(policy);
    compiledObjects.set(policy, compiled);
  }
  return compiled;
}

/**
 * One decision. A policy object is compiled on first use and remembered (so
 * do not mutate it afterwards); a path is read on every call: compile it once
 * with compilePolicy instead.
 */
export function evaluatePolicy(
  policy: CompiledPolicy | PolicyDocument | string | object,
  action: string,
  parameters: Record<string, unknown> | null | undefined,
): PolicyDecision {
  return asCompiled(policy).evaluate(action, parameters);
}

/** Every rule in order, what it did, and the decision (the same one evaluatePolicy gives). */
export function explainPolicy(
  policy: CompiledPolicy | PolicyDocument | string | object,
  action: string,
  parameters: Record<string, unknown> | null | undefined,
): PolicyExplanation {
  return asCompiled(policy).explain(action, parameters);
}
