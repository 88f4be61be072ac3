import { firstFailedCondition, readField } from './policy.condition';
import { DEFAULT_DECISION, violationDecision, type CompiledRule } from './policy.rule';
import type { PolicyDecision, PolicyExplanation, RuleTrace } from './policy.types';

/**
 * Every rule in document order, what it did, and the decision: the same one
 * evaluation gives (docs/policy.md, "Evaluation"), found the slow way, by
 * testing every rule's glob instead of asking the literal index, so that the
 * rules after the deciding one can still be shown with whether their glob matched.
 */
export function explainRules(
  rules: readonly CompiledRule[],
  action: string,
  parameters: Record<string, unknown> | null | undefined,
): PolicyExplanation {
  const traces: RuleTrace[] = [];
  let decided: PolicyDecision | null = null;
  for (const rule of rules) {
    const globMatched = rule.matches(action);
    const trace: RuleTrace = {
      index: rule.index,
      action: rule.glob,
      globMatched,
      evaluated: false,
      outcome: null,
    };
    traces.push(trace);
    if (decided !== null || !globMatched) {
      trace.evaluated = decided === null;
      continue;
    }
    trace.evaluated = true;
    decided = traceRule(trace, rule, parameters);
    if (decided !== null) trace.outcome = decided.decision;
  }
  const final = decided ?? DEFAULT_DECISION;
  return {
    action,
    decision: final.decision,
    reason: final.reason,
    ruleIndex: final.ruleIndex,
    rules: traces,
  };
}

/** Tests a rule whose glob matched, records its failed condition (or null) in `trace`, and returns what it yields. */
function traceRule(
  trace: RuleTrace,
  rule: CompiledRule,
  parameters: Record<string, unknown> | null | undefined,
): PolicyDecision | null {
  const failed = firstFailedCondition(rule.conditions, parameters);
  trace.failedCondition = null;
  if (failed < 0) return rule.matchDecision;
  const condition = rule.conditions[failed];
  trace.failedCondition = {
    index: failed,
    field: condition.field,
    operator: condition.operator,
    value: condition.value,
    actual: readField(parameters, condition.field),
  };
  if (rule.onViolation === null) return null;
  return rule.violationDecision ?? violationDecision(rule, failed, parameters);
}
