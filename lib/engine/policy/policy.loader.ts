import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseDocument } from 'yaml';
import { isDecision } from '../../protocol/decision';
import { PolicyMessages as M } from '../engine.messages';
import { PolicyValidationError } from './policy.errors';
import { isInlinePolicyText, missingFileProblem } from './policy-source';
import type {
  Operator,
  Outcome,
  PolicyCondition,
  PolicyDocument,
  PolicyRule,
} from './policy.types';

/**
 * Loading and validation of policy documents (docs/policy.md).
 *
 * Strict where a mistake would silently change decisions:
 * - outcomes are the upper-case wire words only (`allow` is rejected, not guessed);
 * - an unknown operator, a rule that could never decide, or a membership test
 *   whose value is neither a list nor a string are rejected;
 * - a condition must spell out `value` (use `value: null` to test for null).
 * Lenient where nothing changes: the reference server's spellings are
 * accepted (`eq ne lt gt le ge`, `violation_reason`), and keys we do not use
 * are ignored (the linter reports them).
 *
 * The result is a fresh, normalised copy (canonical operators, no unknown
 * keys): later changes to the caller's object do not reach it.
 */

const OPERATORS: Readonly<Record<string, Operator>> = {
  '==': '==',
  '!=': '!=',
  '<': '<',
  '>': '>',
  '<=': '<=',
  '>=': '>=',
  in: 'in',
  not_in: 'not_in',
  eq: '==',
  ne: '!=',
  lt: '<',
  gt: '>',
  le: '<=',
  ge: '>=',
};

export const DOCUMENT_KEYS: readonly string[] = ['name', 'version', 'description', 'rules'];
/** Keys the reference server adds when it returns a stored policy; accepted without a lint note. */
const SERVER_KEYS: readonly string[] = ['id', 'created_at', 'updated_at'];
export const RULE_KEYS: readonly string[] = [
  'action',
  'conditions',
  'on_match',
  'on_violation',
  'reason',
  'violation_reason',
];
export const CONDITION_KEYS: readonly string[] = ['name', 'field', 'operator', 'value'];

/** A key the loader ignored; the linter turns these into warnings. */
export interface IgnoredKey {
  ruleIndex: number | null;
  /** Path of the object that carried the key (`rules[1]`, `rules[1].conditions[0]`, or '' for the document). */
  path: string;
  key: string;
  known: readonly string[];
}

export interface ValidatedPolicy {
  document: PolicyDocument;
  ignoredKeys: IgnoredKey[];
}

/**
 * A validated, normalised policy from a file path (.yml, .yaml, .json), from
 * policy text (YAML or JSON: a string with a line break or starting with `{`,
 * see policy-source.ts) or from an object already in memory. Throws
 * PolicyValidationError.
 */
export function loadPolicy(pathOrObject: string | object): PolicyDocument {
  return loadPolicyDetailed(pathOrObject).document;
}

/** loadPolicy, plus what it ignored. */
export function loadPolicyDetailed(pathOrObject: string | object): ValidatedPolicy {
  if (typeof pathOrObject === 'string') {
    if (isInlinePolicyText(pathOrObject))
      return validatePolicy(parsePolicyText(pathOrObject), null);
    return validatePolicy(readPolicyFile(pathOrObject), pathOrObject);
  }
  return validatePolicy(pathOrObject, null);
}

/** Reads and parses a policy file, without validating its content. */
export function readPolicyFile(file: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext !== '.yml' && ext !== '.yaml' && ext !== '.json') {
    throw fail(file, null, '', M.unsupportedExtension(ext === '' ? '(none)' : ext));
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw fail(file, null, '', M.readFailed(String(error)));
    throw fail(file, null, '', missingFileProblem(file));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return ext === '.json' ? parseJson(file, text) : parseYaml(file, text);
}

/** Parses inline policy text (YAML, of which JSON is a subset), without validating its content. */
export function parsePolicyText(text: string): unknown {
  return parseYaml(null, text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const why = (error as Error).message.replace(/ in JSON at position \d+.*$/, '');
    const position = /at position (\d+)/.exec((error as Error).message);
    let line: number | null = null;
    let column: number | null = null;
    if (position) {
      const before = text.slice(0, Number(position[1]));
      line = before.split('\n').length;
      column = before.length - before.lastIndexOf('\n');
    } else if (text.trim() === '') {
      line = 1;
    }
    throw new PolicyValidationError({
      file,
      ruleIndex: null,
      field: '',
      problem: M.invalidJson(line, column, why),
      line,
    });
  }
}

function parseYaml(file: string | null, text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const line = first.linePos?.[0]?.line ?? null;
    const why = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new PolicyValidationError({
      file,
      ruleIndex: null,
      field: '',
      problem: M.invalidYaml(line, why),
      line,
    });
  }
  return doc.toJS({ maxAliasCount: 100 });
}

/** Validates a parsed document; `file` only labels the errors. */
export function validatePolicy(raw: unknown, file: string | null): ValidatedPolicy {
  const ignoredKeys: IgnoredKey[] = [];
  if (!isPlainObject(raw))
    throw fail(file, null, '', M.notAnObject('a policy document', describe(raw)));
  noteUnknownKeys(raw, [...DOCUMENT_KEYS, ...SERVER_KEYS], null, '', ignoredKeys, DOCUMENT_KEYS);

  const name = raw.name === undefined ? defaultName(file) : raw.name;
  if (typeof name !== 'string') throw fail(file, null, 'name', M.notAString(describe(name)));
  if (
    raw.version !== undefined &&
    typeof raw.version !== 'string' &&
    typeof raw.version !== 'number'
  ) {
    throw fail(file, null, 'version', M.badVersion(describe(raw.version)));
  }
  if (
    raw.description !== undefined &&
    raw.description !== null &&
    typeof raw.description !== 'string'
  ) {
    throw fail(file, null, 'description', M.notAString(describe(raw.description)));
  }
  if (raw.rules === undefined || raw.rules === null)
    throw fail(file, null, 'rules', M.missingRules());
  if (!Array.isArray(raw.rules))
    throw fail(file, null, 'rules', M.rulesNotArray(describe(raw.rules)));

  const rules = raw.rules.map((rule, index) => validateRule(rule, index, file, ignoredKeys));
  const document: PolicyDocument = { name, rules };
  if (raw.version !== undefined) document.version = raw.version as string | number;
  if (typeof raw.description === 'string') document.description = raw.description;
  return { document, ignoredKeys };
}

function validateRule(
  raw: unknown,
  index: number,
  file: string | null,
  ignored: IgnoredKey[],
): PolicyRule {
  const path = `rules[${index}]`;
  if (!isPlainObject(raw)) throw fail(file, index, path, M.notAnObject('a rule', describe(raw)));
  noteUnknownKeys(raw, RULE_KEYS, index, path, ignored, RULE_KEYS);

  if (raw.action === undefined) throw fail(file, index, `${path}.action`, M.missingAction());
  if (typeof raw.action !== 'string' || raw.action === '') {
    throw fail(file, index, `${path}.action`, M.notANonEmptyString(describe(raw.action)));
  }
  const rule: PolicyRule = { action: raw.action };

  if (raw.conditions !== undefined && raw.conditions !== null) {
    if (!Array.isArray(raw.conditions)) {
      throw fail(file, index, `${path}.conditions`, M.conditionsNotArray(describe(raw.conditions)));
    }
    rule.conditions = raw.conditions.map((condition, c) =>
      validateCondition(condition, index, `${path}.conditions[${c}]`, file, ignored),
    );
  }

  const onMatch = outcome(raw.on_match, file, index, `${path}.on_match`);
  const onViolation = outcome(raw.on_violation, file, index, `${path}.on_violation`);
  if (onMatch === undefined && onViolation === undefined)
    throw fail(file, index, path, M.neverDecides());
  if (onMatch !== undefined) rule.on_match = onMatch;
  if (onViolation !== undefined) rule.on_violation = onViolation;

  for (const key of ['reason', 'violation_reason'] as const) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string')
      throw fail(file, index, `${path}.${key}`, M.notAString(describe(value)));
    // YAML folded scalars (`>`) end with a newline; the reason is one line of text.
    rule[key] = value.replace(/\n+$/, '');
  }
  return rule;
}

function validateCondition(
  raw: unknown,
  ruleIndex: number,
  path: string,
  file: string | null,
  ignored: IgnoredKey[],
): PolicyCondition {
  if (!isPlainObject(raw))
    throw fail(file, ruleIndex, path, M.notAnObject('a condition', describe(raw)));
  noteUnknownKeys(raw, CONDITION_KEYS, ruleIndex, path, ignored, CONDITION_KEYS);

  if (raw.field === undefined) throw fail(file, ruleIndex, `${path}.field`, M.missingField());
  if (typeof raw.field !== 'string' || raw.field === '') {
    throw fail(file, ruleIndex, `${path}.field`, M.notANonEmptyString(describe(raw.field)));
  }
  if (raw.operator === undefined)
    throw fail(file, ruleIndex, `${path}.operator`, M.missingOperator());
  const operator =
    typeof raw.operator === 'string' &&
    Object.prototype.hasOwnProperty.call(OPERATORS, raw.operator)
      ? OPERATORS[raw.operator]
      : undefined;
  if (operator === undefined) {
    throw fail(file, ruleIndex, `${path}.operator`, M.unknownOperator(describe(raw.operator)));
  }
  if (!('value' in raw)) throw fail(file, ruleIndex, `${path}.value`, M.missingValue());
  const value = raw.value === undefined ? null : raw.value;
  if (
    (operator === 'in' || operator === 'not_in') &&
    !Array.isArray(value) &&
    typeof value !== 'string'
  ) {
    throw fail(file, ruleIndex, `${path}.value`, M.badMembershipValue(operator, describe(value)));
  }
  if (raw.name !== undefined && raw.name !== null && typeof raw.name !== 'string') {
    throw fail(file, ruleIndex, `${path}.name`, M.notAString(describe(raw.name)));
  }

  const condition: PolicyCondition = { field: raw.field, operator, value: copyJson(value) };
  if (typeof raw.name === 'string') condition.name = raw.name;
  return condition;
}

function outcome(
  value: unknown,
  file: string | null,
  ruleIndex: number,
  field: string,
): Outcome | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isDecision(value)) throw fail(file, ruleIndex, field, M.badOutcome(describe(value)));
  return value;
}

function noteUnknownKeys(
  raw: Record<string, unknown>,
  accepted: readonly string[],
  ruleIndex: number | null,
  path: string,
  ignored: IgnoredKey[],
  known: readonly string[],
): void {
  for (const key of Object.keys(raw)) {
    if (!accepted.includes(key)) ignored.push({ ruleIndex, path, key, known });
  }
}

function defaultName(file: string | null): string {
  return file === null ? 'policy' : basename(file, extname(file));
}

/** A deep copy, so the compiled policy never shares a list or object with the caller. */
function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = copyJson(item);
    return copy;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(
  file: string | null,
  ruleIndex: number | null,
  field: string,
  problem: string,
): PolicyValidationError {
  return new PolicyValidationError({ file, ruleIndex, field, problem });
}

/** A short description of a value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (typeof value === 'number' || typeof value === 'boolean')
    return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value === 'object' ? 'mapping' : typeof value}`;
}
