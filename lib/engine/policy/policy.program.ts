import { createHash } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical-json';
import { firstFailedCondition } from './policy.condition';
import { explainRules } from './policy.explain';
import { DEFAULT_DECISION, compileRule, violationDecision, type CompiledRule } from './policy.rule';
import {
  cacheCandidates,
  indexRules,
  type CandidateCache,
  type RuleIndex,
} from './policy.rule-index';
import type {
  CompiledPolicy,
  PolicyDecision,
  PolicyDocument,
  PolicyExplanation,
} from './policy.types';

/**
 * A compiled policy. Evaluation (docs/policy.md, "Evaluation") goes rule by
 * rule in order; the first rule that yields an outcome wins:
 * 1. skip the rule unless its glob matches the whole action;
 * 2. evaluate its conditions against `parameters[field]` in order, stopping at the first failure;
 * 3. all pass (or none) → on_match if set, else next rule; one fails →
 *    on_violation if set, else next rule;
 * 4. nothing decided → ALLOW, "No rule matched; default ALLOW".
 * Unlike the reference engine: an on_match rule whose conditions fail does
 * not match, a rule may carry both outcomes, and a comparison that Python
 * would raise on makes the condition fail.
 *
 * Hot path: globs are compiled once, and step 1 is a lookup of the action's
 * cached candidate rules (policy.rule-index.ts) instead of a glob test per rule.
 */
export class PolicyProgram implements CompiledPolicy {
  readonly document: PolicyDocument;
  readonly source: string | null;
  private readonly rules: readonly CompiledRule[];
  private readonly index: RuleIndex;
  private readonly candidates: CandidateCache = new Map();
  private digest: string | null = null;

  constructor(document: PolicyDocument, source: string | null) {
    this.document = deepFreeze(document);
    this.source = source;
    this.rules = document.rules.map(compileRule);
    this.index = indexRules(this.rules);
  }

  /** SHA-256 (hex) of the document's canonical JSON: the same for a file and the object it holds. */
  get hash(): string {
    this.digest ??= createHash('sha256').update(canonicalJson(this.document)).digest('hex');
    return this.digest;
  }

  /** The document's `version`, as text; null when it has none. */
  get version(): string | null {
    const version = this.document.version;
    return version === undefined || version === null ? null : String(version);
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
    return explainRules(this.rules, action, parameters);
  }

  private candidatesFor(action: string): readonly CompiledRule[] {
    const cached = this.candidates.get(action);
    if (cached !== undefined) return cached;
    return cacheCandidates(this.candidates, this.index, action);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
