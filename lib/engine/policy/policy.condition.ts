import { jsonEqual, orderValues } from './policy.comparison';
import type { Operator, PolicyCondition } from './policy.types';

/**
 * One condition, compiled: its operator resolved once to a numeric code (and
 * `in` / `not_in` to the list or the substring test, by the value's type), so
 * testing it on the hot path is a switch, not a string comparison.
 * Semantics: docs/policy.md ("Conditions", "Operators", "Values and types").
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

export interface CompiledCondition {
  readonly field: string;
  readonly operator: Operator;
  readonly code: number;
  readonly value: unknown;
}

const hasOwn = Object.prototype.hasOwnProperty;

export function compileCondition(
  condition: Pick<PolicyCondition, 'field' | 'operator' | 'value'>,
): CompiledCondition {
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
export function firstFailedCondition(
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
export function readField(
  parameters: Record<string, unknown> | null | undefined,
  field: string,
): unknown {
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
