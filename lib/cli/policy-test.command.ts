import type { CompiledPolicy, PolicyExplanation } from '../engine/policy';
import type { CliIO } from './cli.io';
import { PolicyTestMessages as M } from './policy-test.messages';
import {
  loadPolicyTestCases,
  PolicyTestCasesError,
  type PolicyTestCase,
} from './policy-test.cases';
import { quotedTerminalSafe, terminalSafe } from './terminal-text';

/** `provenance policy test`: 0 every case passed, 1 any case failed, 2 a bad file or usage. */
export const POLICY_TEST_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface PolicyTestResult {
  testCase: PolicyTestCase;
  explanation: PolicyExplanation;
  decisionOk: boolean;
  reasonOk: boolean;
}

/**
 * Runs every case against `policy` (already compiled) and prints one line
 * per case, with a diff under each failure. `casesFile` errors are the
 * caller's to turn into exit 2: this throws PolicyTestCasesError.
 */
export function runPolicyTests(
  policy: CompiledPolicy,
  casesFile: string,
  io: CliIO,
  options: { quiet?: boolean } = {},
): number {
  const cases = loadPolicyTestCases(casesFile);
  const results = cases.map((testCase): PolicyTestResult => {
    const explanation = policy.explain(testCase.action, testCase.params);
    return {
      testCase,
      explanation,
      decisionOk: explanation.decision === testCase.expect,
      reasonOk: testCase.reason === null || testCase.reason.test(explanation.reason),
    };
  });
  io.out(
    `policy '${terminalSafe(policy.document.name)}'${policy.version === null ? '' : ` version ${terminalSafe(policy.version)}`}` +
      ` (sha256 ${policy.hash.slice(0, 12)}) against ${terminalSafe(casesFile)}`,
  );
  let failed = 0;
  for (const result of results) {
    const ok = result.decisionOk && result.reasonOk;
    if (!ok) failed++;
    if (ok && options.quiet === true) continue;
    io.out(`${ok ? 'PASS' : 'FAIL'} ${describeCase(result.testCase)}`);
    if (!ok) for (const line of diff(result)) io.out(`       ${line}`);
  }
  io.out(M.summary(results.length - failed, failed));
  return failed === 0 ? POLICY_TEST_EXIT.ok : POLICY_TEST_EXIT.failed;
}

/** `cases[2] large payment: payments.initiate {"amount":800}` */
function describeCase(testCase: PolicyTestCase): string {
  const name = testCase.name === null ? '' : ` ${terminalSafe(testCase.name)}`;
  return (
    `cases[${testCase.index}]${name}: ${terminalSafe(testCase.action)} ` +
    terminalSafe(JSON.stringify(testCase.params))
  );
}

/** What was expected against what the policy said, and which rule said it. */
function diff(result: PolicyTestResult): string[] {
  const { testCase, explanation } = result;
  const rule =
    explanation.ruleIndex < 0 ? 'no rule decided: default' : `rules[${explanation.ruleIndex}]`;
  const lines: string[] = [];
  if (!result.decisionOk) {
    lines.push(`- expect: ${testCase.expect}`);
    lines.push(`+ actual: ${explanation.decision} (${rule})`);
  } else {
    lines.push(`  decision: ${explanation.decision} (${rule}), as expected`);
  }
  if (!result.reasonOk && testCase.reason !== null) {
    const how = testCase.reason.kind === 'regex' ? 'matching' : 'containing';
    lines.push(`- reason ${how} ${quotedTerminalSafe(testCase.reason.text)}`);
    lines.push(`+ reason: ${quotedTerminalSafe(explanation.reason)}`);
  } else if (!result.decisionOk) {
    lines.push(`  reason: ${quotedTerminalSafe(explanation.reason)}`);
  }
  return lines;
}

export { PolicyTestCasesError };
