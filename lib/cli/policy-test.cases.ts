import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import type { Outcome } from '../engine/policy';
import { isDecision } from '../protocol/decision';
import { PolicyTestMessages as M } from './policy-test.messages';

/**
 * The cases file of `provenance policy test` (docs/cli.md): a YAML or JSON
 * list of cases, or an object with a `cases` list. Each case:
 *
 *   { name?, action, params?, expect: ALLOW|BLOCK|ESCALATE, reason? }
 *
 * `reason` is matched as a substring of the decision's reason, or, written
 * `/pattern/flags`, as a regular expression (`/^exact text$/` for an exact
 * match). Strict: an unknown key, a lower-case decision or a `params` that is
 * not an object is an error naming the case and the field, never a case that
 * quietly checks less than it says.
 */
export interface PolicyTestCase {
  /** 0-based position in the list. */
  index: number;
  /** The case's line in the file (1-based), when known. */
  line: number | null;
  name: string | null;
  action: string;
  params: Record<string, unknown> | null;
  expect: Outcome;
  reason: ReasonMatcher | null;
}

export interface ReasonMatcher {
  /** As written in the file. */
  text: string;
  kind: 'substring' | 'regex';
  test(reason: string): boolean;
}

export const CASE_KEYS: readonly string[] = ['name', 'action', 'params', 'expect', 'reason'];
const TOP_KEYS: readonly string[] = ['cases', 'name'];
const REGEX = /^\/(.*)\/([dgimsuvy]*)$/s;

/** Thrown with a message naming the file, the case and the field. */
export class PolicyTestCasesError extends Error {}

/** The cases of `file`, validated. Throws PolicyTestCasesError. */
export function loadPolicyTestCases(file: string): PolicyTestCase[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyTestCasesError(M.unreadable(file, (error as Error).message));
  }
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyTestCasesError(M.notYaml(file, document.errors[0].message));
  }
  let list: Node | null = null;
  if (isSeq(document.contents)) {
    list = document.contents;
  } else if (isMap(document.contents)) {
    for (const pair of document.contents.items) {
      const key = String((pair.key as { value?: unknown } | null)?.value ?? pair.key);
      if (!TOP_KEYS.includes(key)) throw new PolicyTestCasesError(M.unknownTopKey(file, key));
      if (key === 'cases') list = pair.value as Node | null;
    }
  }
  if (list === null || !isSeq(list)) throw new PolicyTestCasesError(M.noCasesList(file));
  if (list.items.length === 0) throw new PolicyTestCasesError(M.noCases(file));
  const values = list.toJSON() as unknown[];
  const names = new Map<string, number>();
  return values.map((value, index) => {
    const node = list.items[index] as Node | null;
    const offset = node?.range?.[0];
    const line = offset === undefined ? null : lines.linePos(offset).line;
    const where = `${file}${line === null ? '' : `:${line}`}: cases[${index}]`;
    const testCase = validateCase(value, index, line, where);
    if (testCase.name !== null) {
      const first = names.get(testCase.name);
      if (first !== undefined) {
        throw new PolicyTestCasesError(M.duplicateName(where, testCase.name, first));
      }
      names.set(testCase.name, index);
    }
    return testCase;
  });
}

function validateCase(
  value: unknown,
  index: number,
  line: number | null,
  where: string,
): PolicyTestCase {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PolicyTestCasesError(M.notAnObject(where));
  }
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!CASE_KEYS.includes(key))
      throw new PolicyTestCasesError(M.unknownKey(where, key, CASE_KEYS));
  }
  if (c.action === undefined) throw new PolicyTestCasesError(M.missing(where, 'action'));
  if (typeof c.action !== 'string') throw new PolicyTestCasesError(M.notText(where, 'action'));
  if (c.expect === undefined) throw new PolicyTestCasesError(M.missing(where, 'expect'));
  if (!isDecision(c.expect)) {
    throw new PolicyTestCasesError(M.badExpect(where, JSON.stringify(c.expect)));
  }
  if (c.name !== undefined && typeof c.name !== 'string' && typeof c.name !== 'number') {
    throw new PolicyTestCasesError(M.notText(where, 'name'));
  }
  const params = c.params === undefined ? {} : c.params;
  if (params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new PolicyTestCasesError(M.badParams(where));
  }
  if (c.reason !== undefined && typeof c.reason !== 'string') {
    throw new PolicyTestCasesError(M.notText(where, 'reason'));
  }
  return {
    index,
    line,
    name: c.name === undefined ? null : String(c.name),
    action: c.action,
    params: params as Record<string, unknown> | null,
    expect: c.expect,
    reason: c.reason === undefined ? null : reasonMatcher(c.reason, where),
  };
}

function reasonMatcher(text: string, where: string): ReasonMatcher {
  const regex = REGEX.exec(text);
  if (regex === null) {
    return { text, kind: 'substring', test: (reason) => reason.includes(text) };
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(regex[1], regex[2].replace(/[gy]/g, ''));
  } catch (error) {
    throw new PolicyTestCasesError(M.badRegex(where, (error as Error).message));
  }
  return { text, kind: 'regex', test: (reason) => pattern.test(reason) };
}
