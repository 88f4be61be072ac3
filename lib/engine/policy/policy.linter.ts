import { PolicyMessages as M } from '../engine.messages';
import { fnmatch, isCatchAllGlob, isLiteralGlob } from './fnmatch';
import { loadPolicyDetailed, type IgnoredKey } from './policy.loader';
import type { PolicyDocument, PolicyRule } from './policy.types';
import { formatPythonValue } from './policy.value-format';

/**
 * Findings about a policy that is valid but probably not what its author
 * meant. An `error` is a rule that cannot work as written (it never decides,
 * or a condition can never pass); a `warning` is legal but risky (unreachable
 * rules, the default ALLOW, mixed types, ignored keys).
 */
export interface LintFinding {
  /** The rule concerned, or null for the document as a whole. */
  ruleIndex: number | null;
  code: LintCode;
  message: string;
  severity: 'warning' | 'error';
}

export type LintCode =
  | 'empty-rules'
  | 'no-catch-all'
  | 'shadowed'
  | 'never-decides'
  | 'unorderable-value'
  | 'mixed-types'
  | 'empty-membership'
  | 'unknown-key';

/**
 * Lints a policy file path or policy object. An invalid policy throws
 * PolicyValidationError, as loadPolicy does. Findings come in rule order,
 * document-level ones last.
 */
export function lintPolicy(policy: PolicyDocument | string | object): LintFinding[] {
  const { document, ignoredKeys } = loadPolicyDetailed(policy);
  const rules = document.rules;
  const findings: LintFinding[] = ignoredKeys.map(unknownKeyFinding);
  rules.forEach((rule, index) => {
    const never = neverDecidesFinding(rule, index);
    if (never !== null) findings.push(never);
    findings.push(...conditionFindings(rule, index));
    const shadowed = shadowedFinding(rules, index);
    if (shadowed !== null) findings.push(shadowed);
  });
  findings.push(...mixedTypeFindings(rules));
  findings.sort((a, b) => (a.ruleIndex ?? Infinity) - (b.ruleIndex ?? Infinity));
  const coverage = coverageFinding(rules);
  if (coverage !== null) findings.push(coverage);
  return findings;
}

/** A key the loader ignored (a typo, or a key of another engine). */
function unknownKeyFinding(ignored: IgnoredKey): LintFinding {
  return {
    ruleIndex: ignored.ruleIndex,
    code: 'unknown-key',
    severity: 'warning',
    // Relative to the rule, as the other findings are (the rule index is a field of its own).
    message: `${ruleRelative(ignored.path)}${M.unknownKey(ignored.key, ignored.known)}`,
  };
}

/** A rule with no conditions and no on_match: nothing can fail, so on_violation never fires. */
function neverDecidesFinding(rule: PolicyRule, index: number): LintFinding | null {
  if ((rule.conditions ?? []).length > 0 || rule.on_match !== undefined) return null;
  return {
    ruleIndex: index,
    code: 'never-decides',
    severity: 'error',
    message: M.violationWithoutConditions(),
  };
}

/** Per condition, in order: an ordering against a value that is neither number nor string, an empty membership list. */
function conditionFindings(rule: PolicyRule, index: number): LintFinding[] {
  const findings: LintFinding[] = [];
  (rule.conditions ?? []).forEach((condition, c) => {
    const at = `conditions[${c}]: `;
    const ordering = ['<', '>', '<=', '>='].includes(condition.operator);
    if (ordering && typeof condition.value !== 'number' && typeof condition.value !== 'string') {
      findings.push({
        ruleIndex: index,
        code: 'unorderable-value',
        severity: 'error',
        message: at + M.unorderableValue(condition.operator, printValue(condition.value)),
      });
    }
    const membership = condition.operator === 'in' || condition.operator === 'not_in';
    if (membership && Array.isArray(condition.value) && condition.value.length === 0) {
      findings.push({
        ruleIndex: index,
        code: 'empty-membership',
        severity: 'warning',
        message: at + M.emptyMembership(condition.operator),
      });
    }
  });
  return findings;
}

/** A rule that an earlier rule always decides before it (see shadowingRule). */
function shadowedFinding(rules: readonly PolicyRule[], index: number): LintFinding | null {
  const shadow = shadowingRule(rules, index);
  if (shadow < 0) return null;
  return {
    ruleIndex: index,
    code: 'shadowed',
    severity: 'warning',
    message: M.shadowed(shadow, rules[shadow].action, rules[index].action),
  };
}

/** Document level: no rules at all, or no catch-all rule that always decides (so the default ALLOW can be reached). */
function coverageFinding(rules: readonly PolicyRule[]): LintFinding | null {
  if (rules.length === 0) {
    return { ruleIndex: null, code: 'empty-rules', severity: 'warning', message: M.emptyRules() };
  }
  if (rules.some((rule) => isCatchAllGlob(rule.action) && alwaysDecides(rule))) return null;
  return { ruleIndex: null, code: 'no-catch-all', severity: 'warning', message: M.noCatchAll() };
}

/** True when the rule yields an outcome for every action its glob matches, whatever the parameters. */
function alwaysDecides(rule: PolicyRule): boolean {
  const conditions = rule.conditions ?? [];
  if (conditions.length === 0) return rule.on_match !== undefined;
  return rule.on_match !== undefined && rule.on_violation !== undefined;
}

/** The first earlier rule that decides every action this rule could see, or -1. */
function shadowingRule(rules: readonly PolicyRule[], index: number): number {
  const glob = rules[index].action;
  for (let earlier = 0; earlier < index; earlier++) {
    const rule = rules[earlier];
    if (alwaysDecides(rule) && globCovers(rule.action, glob)) return earlier;
  }
  return -1;
}

/**
 * True when every name `inner` matches is also matched by `outer`. Exact when
 * `inner` is literal or `outer` is a catch-all; otherwise it recognises equal
 * globs and `prefix*` / `*suffix` covering a glob with that literal prefix or
 * suffix, and says false (no finding) for what it cannot prove.
 */
function globCovers(outer: string, inner: string): boolean {
  if (isCatchAllGlob(outer) || outer === inner) return true;
  if (isLiteralGlob(inner)) return fnmatch(inner, outer);
  const prefix = /^([^*?[]*)\*+$/.exec(outer);
  if (prefix) return literalPrefix(inner).startsWith(prefix[1]);
  const suffix = /^\*+([^*?[]*)$/.exec(outer);
  if (suffix) return literalSuffix(inner).endsWith(suffix[1]);
  return false;
}

function literalPrefix(glob: string): string {
  const special = glob.search(/[*?[]/);
  return special < 0 ? glob : glob.slice(0, special);
}

function literalSuffix(glob: string): string {
  let end = glob.length;
  while (end > 0 && !'*?[]'.includes(glob[end - 1])) end--;
  return glob.slice(end);
}

/** A field compared with a number in one condition and a string in another can never satisfy both. */
function mixedTypeFindings(rules: readonly PolicyRule[]): LintFinding[] {
  const seen = new Map<string, { types: string[]; reported: boolean }>();
  const findings: LintFinding[] = [];
  rules.forEach((rule, index) => {
    for (const condition of rule.conditions ?? []) {
      const values =
        (condition.operator === 'in' || condition.operator === 'not_in') &&
        Array.isArray(condition.value)
          ? condition.value
          : [condition.value];
      let entry = seen.get(condition.field);
      if (entry === undefined) {
        entry = { types: [], reported: false };
        seen.set(condition.field, entry);
      }
      for (const value of values) {
        const type = jsonType(value);
        // Comparing with null tests for absence, which goes with any type.
        if (type === 'null' || entry.types.includes(type)) continue;
        entry.types.push(type);
        if (entry.types.length > 1 && !entry.reported) {
          entry.reported = true;
          findings.push({
            ruleIndex: index,
            code: 'mixed-types',
            severity: 'warning',
            message: M.mixedTypes(condition.field, entry.types),
          });
        }
      }
    }
  });
  return findings;
}

function ruleRelative(path: string): string {
  const inner = path.replace(/^rules\[\d+\]\.?/, '');
  return inner === '' ? '' : `${inner}: `;
}

function jsonType(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

function printValue(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : formatPythonValue(value);
}
