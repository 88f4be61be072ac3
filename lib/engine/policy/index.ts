export type {
  CompiledPolicy,
  Operator,
  Outcome,
  PolicyCondition,
  PolicyDecision,
  PolicyDocument,
  PolicyExplanation,
  PolicyRule,
  RuleTrace,
} from './policy.types';
export { PolicyValidationError } from './policy.errors';
export {
  compileGlob,
  fnmatch,
  globToRegExp,
  isCatchAllGlob,
  isLiteralGlob,
  translateGlob,
  type GlobMatcher,
} from './fnmatch';
export {
  loadPolicy,
  loadPolicyDetailed,
  parsePolicyText,
  readPolicyFile,
  validatePolicy,
} from './policy.loader';
export { isInlinePolicyText } from './policy-source';
export { isCatchAllRuleGlob, uncoveredActions, type UncoveredAction } from './policy.coverage';
export type { IgnoredKey, ValidatedPolicy } from './policy.loader';
export { compilePolicy, evaluatePolicy, explainPolicy } from './policy.compiler';
export { lintPolicy, type LintCode, type LintFinding } from './policy.linter';
export { compareCodePoints, jsonEqual } from './policy.comparison';
export { formatPythonValue } from './policy.value-format';
