import { PolicyMessages as M } from '../engine.messages';
import { compileGlob, isLiteralGlob, type GlobMatcher } from './fnmatch';
import { jsonEqual, orderValues } from './policy.comparison';
import { loadPolicy } from './policy.loader';
import type {
  CompiledPolicy,
  Operator,
  Outcome,
  PolicyDecision,
  PolicyDocument,
  PolicyExplanation,
  RuleTrace,
} from './policy.types';
import { formatPythonValue } from './policy.value-format';

/**
 * Evaluation, PROTOCOL.md "Policy document", rule by rule in order; the first
 * rule that yields an outcome wins:
 * 1. skip the rule unless its glob matches the whole action;
 * 2. evaluate its conditions against `parameters[field]` in order, stopping at the first failure;
 * 3. all pass (or none) → on_match if set, else next rule; one fails →
 *    on_violation if set, else next rule;
 * 4. nothing decided → ALLOW, "No rule matched; default ALLOW".
 * Unlike the reference engine: an on_match rule whose conditions fail does
 * not match, a rule may carry both outcomes, and a comparison that Python
 * would raise on makes the condition fail.
 *
 * Hot path: globs are compiled once; rules with a literal action sit in a
 * Map from action to rules, and the candidate list of an action (its literal
 * rules merged in document order with the glob rules that match it) is cached,
 * so a large policy costs a Map lookup, not a glob test per rule. Decisions
 * whose reason is fixed are built once and frozen; only a "Condition failed"
 * reason, which names the actual value, is built per call.
 */

const EQ = 0;
const NE = 1;
const LT = 2;
const GT = 3;
const LE = 4;
const GE = 5;
const IN_LIST = 6;
const NOT_IN_LIST = 7;
const IN_TEXT = 8;
const NOT_IN_TEXT = 9;

interface CompiledCondition {
  readonly field: string;
  readonly operator: Operator;
  readonly code: number;
  readonly value: unknown;
}

interface CompiledRule {
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

/** Distinct actions whose candidate rules are remembered; beyond it the cache starts over. */
const CANDIDATE_CACHE_LIMIT = 1024;

const hasOwn = Object.prototype.hasOwnProperty;

const DEFAULT_DECISION: PolicyDecision = Object.freeze({
  decision: 'ALLOW',
  reason: M.defaultAllow(),
  ruleIndex: -1,
});

class PolicyProgram implements CompiledPolicy {
  readonly document: PolicyDocument;
  readonly source: string | null;
  private readonly rules: readonly CompiledRule[];
  private readonly literalRules = new Map<string, CompiledRule[]>();
  private readonly globRules: CompiledRule[] = [];
  private readonly candidates = new Map<string, readonly CompiledRule[]>();

  constructor(document: PolicyDocument, source: string | null) {
    this.document = deepFreeze(document);
    this.source = source;
    this.rules = document.rules.map(compileRule);
    for (const rule of this.rules) {
      if (isLiteralGlob(rule.glob)) {
        const list = this.literalRules.get(rule.glob);
        if (list) list.push(rule);
        else this.literalRules.set(rule.glob, [rule]);
      } else {
        this.globRules.push(rule);
      }
    }
  }

  evaluate(action: string, parameters: Record<string, unknown> | null | undefined): PolicyDecision {
    const candidates = this.candidatesFor(action);
    for (let r = 0; r < candidates.length; r++) {
      const rule = candidates[r];
      const failed = firstFailedCondition(rule.conditions, parameters);
      if (failed < 0) {
        if (rule.matchDecision !== null) return rule.matchDecision;
      } else if (rule.onViolation !== null) {
        return rule.violationDecision ?? violationDecision(rule, failed, parameters);
      }
    }
    return DEFAULT_DECISION;
  }

  explain(
    action: string,
    parameters: Record<string, unknown> | null | undefined,
  ): PolicyExplanation {
    const traces: RuleTrace[] = [];
    let decided: PolicyDecision | null = null;
    for (const rule of this.rules) {
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
      const failed = firstFailedCondition(rule.conditions, parameters);
      trace.failedCondition = null;
      if (failed < 0) {
        if (rule.matchDecision !== null) decided = rule.matchDecision;
      } else {
        const condition = rule.conditions[failed];
        trace.failedCondition = {
          index: failed,
          field: condition.field,
          operator: condition.operator,
          value: condition.value,
          actual: readField(parameters, condition.field),
        };
        if (rule.onViolation !== null) {
          decided = rule.violationDecision ?? violationDecision(rule, failed, parameters);
        }
      }
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

  private candidatesFor(action: string): readonly CompiledRule[] {
    const cached = this.candidates.get(action);
    if (cached !== undefined) return cached;
    const literal = this.literalRules.get(action);
    const globs = this.globRules;
    const merged: CompiledRule[] = [];
    let l = 0;
    let g = 0;
    const literalCount = literal === undefined ? 0 : literal.length;
    while (l < literalCount || g < globs.length) {
      if (g >= globs.length || (l < literalCount && literal![l].index < globs[g].index)) {
        merged.push(literal![l++]);
      } else {
        const rule = globs[g++];
        if (rule.matches(action)) merged.push(rule);
      }
    }
    // Bounded: action names may come from untrusted input; starting over keeps memory flat.
    if (this.candidates.size >= CANDIDATE_CACHE_LIMIT) this.candidates.clear();
    this.candidates.set(action, merged);
    return merged;
  }
}

function compileRule(rule: PolicyDocument['rules'][number], index: number): CompiledRule {
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

function compileCondition(condition: {
  field: string;
  operator: Operator;
  value: unknown;
}): CompiledCondition {
  const text = typeof condition.value === 'string';
  const code = {
    '==': EQ,
    '!=': NE,
    '<': LT,
    '>': GT,
    '<=': LE,
    '>=': GE,
    in: text ? IN_TEXT : IN_LIST,
    not_in: text ? NOT_IN_TEXT : NOT_IN_LIST,
  }[condition.operator];
  return { field: condition.field, operator: condition.operator, code, value: condition.value };
}

/** Index of the first condition that fails, or -1 when all pass (or there are none). */
function firstFailedCondition(
  conditions: readonly CompiledCondition[],
  parameters: Record<string, unknown> | null | undefined,
): number {
  for (let c = 0; c < conditions.length; c++) {
    const condition = conditions[c];
    if (!holds(condition, readField(parameters, condition.field))) return c;
  }
  return -1;
}

/** `parameters[field]`, own keys only (a field named `toString` is not inherited); missing reads as null. */
function readField(parameters: Record<string, unknown> | null | undefined, field: string): unknown {
  if (parameters === null || parameters === undefined || !hasOwn.call(parameters, field))
    return null;
  const value = parameters[field];
  return value === undefined ? null : value;
}

function holds(condition: CompiledCondition, actual: unknown): boolean {
  const expected = condition.value;
  switch (condition.code) {
    case EQ:
      return jsonEqual(actual, expected);
    case NE:
      return !jsonEqual(actual, expected);
    case LT:
      return orderValues(actual, expected) < 0;
    case GT:
      return orderValues(actual, expected) > 0;
    case LE:
      return orderValues(actual, expected) <= 0;
    case GE:
      return orderValues(actual, expected) >= 0;
    case IN_LIST:
      return contains(expected as unknown[], actual);
    case NOT_IN_LIST:
      return !contains(expected as unknown[], actual);
    // Substring tests are defined only for a string field: any other field fails both ways.
    case IN_TEXT:
      return typeof actual === 'string' && (expected as string).includes(actual);
    case NOT_IN_TEXT:
      return typeof actual === 'string' && !(expected as string).includes(actual);
    default:
      return false;
  }
}

function contains(list: readonly unknown[], actual: unknown): boolean {
  for (let i = 0; i < list.length; i++) if (jsonEqual(actual, list[i])) return true;
  return false;
}

function violationDecision(
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Compiles a policy for repeated evaluation. Accepts a file path, a policy
 * object (validated here), or a document from loadPolicy. `source` names
 * where it came from (defaults to the path when given one).
 */
export function compilePolicy(
  policy: PolicyDocument | string | object,
  source?: string,
): CompiledPolicy {
  if (policy instanceof PolicyProgram && source === undefined) return policy;
  const document = loadPolicy(policy instanceof PolicyProgram ? policy.document : policy);
  return new PolicyProgram(document, source ?? (typeof policy === 'string' ? policy : null));
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
