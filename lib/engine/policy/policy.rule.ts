import { PolicyMessages as M } from '../engine.messages';
import { compileGlob, type GlobMatcher } from './fnmatch';
import { compileCondition, readField, type CompiledCondition } from './policy.condition';
import type { Outcome, PolicyDecision, PolicyRule } from './policy.types';
import { formatPythonValue } from './policy.value-format';

/**
 * One rule, compiled: its glob, its conditions, and the decisions it can yield.
 * Decisions whose reason is fixed are built once and frozen; only a
 * "Condition failed" reason, which names the actual value, is built per call
 * (docs/policy.md, "Reasons").
 */
export interface CompiledRule {
  readonly index: number;
  readonly glob: string;
  readonly matches: GlobMatcher;
  readonly conditions: readonly CompiledCondition[];
  /** The frozen on_match decision, or null when the rule has no on_match. */
  readonly matchDecision: PolicyDecision | null;
  readonly onViolation: Outcome | null;
  /** The frozen on_violation decision when its reason is fixed text, else null (reason built per call). */
  readonly violationDecision: PolicyDecision | null;
}

/** What no rule deciding yields. */
export const DEFAULT_DECISION: PolicyDecision = Object.freeze({
  decision: 'ALLOW',
  reason: M.defaultAllow(),
  ruleIndex: -1,
});

export function compileRule(rule: PolicyRule, index: number): CompiledRule {
  const conditions = (rule.conditions ?? []).map(compileCondition);
  const matchDecision =
    rule.on_match === undefined
      ? null
      : Object.freeze({
          decision: rule.on_match,
          reason: rule.reason ?? M.ruleMatched(rule.action),
          ruleIndex: index,
        });
  const onViolation = rule.on_violation ?? null;
  const fixedViolationReason = rule.violation_reason ?? rule.reason;
  const violationDecision =
    onViolation !== null && fixedViolationReason !== undefined
      ? Object.freeze({ decision: onViolation, reason: fixedViolationReason, ruleIndex: index })
      : null;
  return {
    index,
    glob: rule.action,
    matches: compileGlob(rule.action),
    conditions,
    matchDecision,
    onViolation,
    violationDecision,
  };
}

/** The on_violation decision of a rule without a fixed reason: "Condition failed", naming the failed condition and what it saw. */
export function violationDecision(
  rule: CompiledRule,
  failed: number,
  parameters: Record<string, unknown> | null | undefined,
): PolicyDecision {
  const condition = rule.conditions[failed];
  return {
    decision: rule.onViolation as Outcome,
    reason: M.conditionFailed(
      condition.field,
      condition.operator,
      formatPythonValue(condition.value),
      formatPythonValue(readField(parameters, condition.field)),
    ),
    ruleIndex: rule.index,
  };
}
