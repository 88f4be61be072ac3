/** The policy document of docs/policy.md, after validation. */
export type Outcome = 'ALLOW' | 'BLOCK' | 'ESCALATE';

export type Operator = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'not_in';

export interface PolicyCondition {
  name?: string;
  field: string;
  operator: Operator;
  value: unknown;
}

export interface PolicyRule {
  action: string;
  conditions?: PolicyCondition[];
  on_match?: Outcome;
  on_violation?: Outcome;
  reason?: string;
  /** Alias accepted from the reference server's YAML template. */
  violation_reason?: string;
}

export interface PolicyDocument {
  name: string;
  version?: string | number;
  description?: string;
  rules: PolicyRule[];
}

export interface PolicyDecision {
  decision: Outcome;
  reason: string;
  /** Index of the rule that decided, or -1 for the default ALLOW. */
  ruleIndex: number;
}

export interface RuleTrace {
  index: number;
  action: string;
  globMatched: boolean;
  /** False for the rules after the one that decided: they were not evaluated (their glob still was, for the reader). */
  evaluated: boolean;
  /** The first condition that failed, with the value it saw (a missing field reads as null). */
  failedCondition?: {
    index: number;
    field: string;
    operator: Operator;
    value: unknown;
    actual: unknown;
  } | null;
  /** What this rule yielded, or null when evaluation went on to the next rule. */
  outcome: Outcome | null;
}

export interface PolicyExplanation extends PolicyDecision {
  action: string;
  rules: RuleTrace[];
}

/** A policy compiled once and evaluated many times. */
export interface CompiledPolicy {
  readonly document: PolicyDocument;
  /** Where it was loaded from, when it came from a file. */
  readonly source: string | null;
  /**
   * SHA-256 (hex) of the document's canonical JSON (keys sorted, no
   * whitespace): what the audit trail and the start-up banner name, the same
   * whether the policy came from a file or an object.
   */
  readonly hash: string;
  /** The document's `version`, as text; null when it has none. */
  readonly version: string | null;
  evaluate(action: string, parameters: Record<string, unknown> | null | undefined): PolicyDecision;
  explain(
    action: string,
    parameters: Record<string, unknown> | null | undefined,
  ): PolicyExplanation;
}
