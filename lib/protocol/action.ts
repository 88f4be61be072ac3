import { describeTextProblem, textProblem, textRule, type TextProblem } from './identity';

/**
 * The longest action name, in characters (code points). Action names are
 * dotted identifiers (`payments.initiate`, `crm.contacts.export`): tens of
 * characters. 256 leaves room for deep namespaces, keeps an audit line and
 * a log line readable, and bounds the work of matching a name against the
 * policy's globs (linear in the name's length: lib/engine/policy/fnmatch.ts).
 */
export const MAX_ACTION_LENGTH = 256;

/** The action rule in words, for "must be …" messages. */
export const ACTION_RULE = textRule(MAX_ACTION_LENGTH);

/**
 * Null for an action name (`payments.initiate`): a string that is not only
 * white space, of at most MAX_ACTION_LENGTH characters, without the control
 * characters an identity may not have (identity.ts); else what is wrong.
 */
export function actionProblem(value: unknown): TextProblem | null {
  return textProblem(value, MAX_ACTION_LENGTH);
}

/**
 * The action rule. The decorator, `gateway.guard()`, `execute()`, the engine
 * and the server all ask this one function (or actionProblem, for the reason).
 */
export function isValidAction(value: unknown): value is string {
  return actionProblem(value) === null;
}

/**
 * The rule, and what `value` breaks of it, for a "must be …" message:
 * "a non-empty string … of at most 256 characters, …; it is 300 characters long; the limit is 256".
 */
export function actionRuleBrokenBy(value: unknown): string {
  const problem = actionProblem(value);
  return problem === null ? ACTION_RULE : `${ACTION_RULE}; it ${describeTextProblem(problem)}`;
}
