import type { CompiledPolicy, Outcome, PolicyExplanation, RuleTrace } from '../engine/policy';
import {
  compilePolicy,
  formatPythonValue,
  lintPolicy,
  PolicyValidationError,
} from '../engine/policy';
import type { CliIO } from './cli.io';
import { runBacktestCommand } from './policy-backtest.command';
import { PolicyTestCasesError, runPolicyTests } from './policy-test.command';
import { safeLine, terminalSafe } from './terminal-text';

/**
 * `provenance policy check|explain|test|backtest`. Exit codes:
 * - check: 0 valid (warnings allowed), 1 lint errors, or warnings with --strict, 2 invalid file or usage;
 * - explain: 0 ALLOW, 3 BLOCK, 4 ESCALATE (so a script can branch on the decision), 2 invalid file or usage;
 * - test: 0 every case passed, 1 any case failed, 2 invalid policy, cases file or usage;
 * - backtest: 0 the report, 1 a decision changed (with --fail-on-change), 2 unreadable input or usage.
 */
export const EXIT = {
  ok: 0,
  lint: 1,
  usage: 2,
  block: 3,
  escalate: 4,
} as const;

export const POLICY_USAGE = [
  'Usage:',
  '  provenance policy check FILE [--strict]',
  '      Validate a policy file (.yml, .yaml, .json) and lint it.',
  '      Exit 0 when valid, 1 on lint errors (or on any warning with --strict), 2 when invalid.',
  '  provenance policy explain FILE ACTION [PARAMS_JSON] [--json]',
  '      Show how each rule treats ACTION with PARAMS_JSON (a JSON object, default {}),',
  '      and the decision. Exit 0 ALLOW, 3 BLOCK, 4 ESCALATE, 2 when the file or arguments are invalid.',
  '  provenance policy test FILE CASES.yml [--quiet]',
  '      Decide each case of CASES.yml ({ name?, action, params?, expect, reason? }) and compare;',
  '      reason is a substring, or /regex/flags. --quiet prints only the failures and the summary.',
  '      Exit 0 when every case passes, 1 when any fails (with a diff), 2 when a file is invalid.',
  '  provenance policy backtest FILE (AUDIT.jsonl|BUNDLE.json | --url URL [--schema NAME] [--tenant ID])',
  '                            [--examples N] [--json] [--fail-on-change]',
  '      Replay every recorded call of an audit log (a file, or PostgreSQL: default schema provenance,',
  '      tenant local) against the candidate policy FILE and report what would change, with up to',
  '      N examples (default 3) per change. Exit 0, or 1 with --fail-on-change when a decision',
  '      changed; 2 when the policy or the log cannot be read.',
].join('\n');

const DECISION_EXIT: Readonly<Record<Outcome, number>> = {
  ALLOW: EXIT.ok,
  BLOCK: EXIT.block,
  ESCALATE: EXIT.escalate,
};

export async function runPolicyCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined) {
    return usage(io, 'missing policy command (check, explain, test or backtest)');
  }
  if (
    sub === '--help' ||
    sub === '-h' ||
    sub === 'help' ||
    rest.includes('--help') ||
    rest.includes('-h')
  ) {
    io.out(POLICY_USAGE);
    return EXIT.ok;
  }
  const flags = rest.filter((arg) => arg.startsWith('--'));
  const positional = rest.filter((arg) => !arg.startsWith('--'));
  switch (sub) {
    case 'check':
      return check(positional, flags, io);
    case 'explain':
      return explain(positional, flags, io);
    case 'test':
      return test(positional, flags, io);
    case 'backtest': {
      // What it prints comes from agents (actions, sessions, reasons): escaped, line by line.
      const guard = (text: string) => text.split('\n').map(safeLine).join('\n');
      const safe: CliIO = {
        out: (line) => io.out(guard(line)),
        err: (line) => io.err(guard(line)),
      };
      return runBacktestCommand(rest, safe, usage, invalid);
    }
    default:
      return usage(io, `unknown policy command '${terminalSafe(sub)}'`);
  }
}

function check(positional: string[], flags: string[], io: CliIO): number {
  const unknown = flags.find((flag) => flag !== '--strict');
  if (unknown !== undefined) return usage(io, `unknown option '${unknown}' for policy check`);
  if (positional.length !== 1) return usage(io, 'policy check takes exactly one FILE');
  const [file] = positional;
  const strict = flags.includes('--strict');

  let policy: CompiledPolicy;
  let findings: ReturnType<typeof lintPolicy>;
  try {
    policy = compilePolicy(file);
    // The file itself, not the normalised document: the linter also reports the keys the loader dropped.
    findings = lintPolicy(file);
  } catch (error) {
    return invalid(io, error);
  }

  const errors = findings.filter((finding) => finding.severity === 'error').length;
  const warnings = findings.length - errors;
  for (const finding of findings) {
    const where = finding.ruleIndex === null ? '' : `rules[${finding.ruleIndex}]: `;
    const line = `${file}: ${where}${finding.severity}: ${finding.message}`;
    if (finding.severity === 'error') io.err(line);
    else io.out(line);
  }
  const count = policy.document.rules.length;
  io.out(
    `${file}: policy '${policy.document.name}', ${count} rule${count === 1 ? '' : 's'}: ` +
      `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  io.out(`${file}: version ${policy.version ?? '(none)'}, sha256 ${policy.hash}`);
  return errors > 0 || (strict && warnings > 0) ? EXIT.lint : EXIT.ok;
}

function test(positional: string[], flags: string[], io: CliIO): number {
  const unknown = flags.find((flag) => flag !== '--quiet');
  if (unknown !== undefined) return usage(io, `unknown option '${unknown}' for policy test`);
  if (positional.length !== 2) return usage(io, 'policy test takes FILE CASES.yml');
  const [file, cases] = positional;
  let policy: CompiledPolicy;
  try {
    policy = compilePolicy(file);
  } catch (error) {
    return invalid(io, error);
  }
  try {
    return runPolicyTests(policy, cases, io, { quiet: flags.includes('--quiet') });
  } catch (error) {
    if (error instanceof PolicyTestCasesError) {
      io.err(terminalSafe(error.message));
      return EXIT.usage;
    }
    throw error;
  }
}

function explain(positional: string[], flags: string[], io: CliIO): number {
  const unknown = flags.find((flag) => flag !== '--json');
  if (unknown !== undefined) return usage(io, `unknown option '${unknown}' for policy explain`);
  if (positional.length < 2 || positional.length > 3) {
    return usage(io, 'policy explain takes FILE ACTION [PARAMS_JSON]');
  }
  const [file, action, paramsText] = positional;

  let parameters: Record<string, unknown> | null = {};
  if (paramsText !== undefined) {
    try {
      parameters = JSON.parse(paramsText) as Record<string, unknown> | null;
    } catch (error) {
      return usage(io, `PARAMS_JSON is not valid JSON: ${(error as Error).message}`);
    }
    if (parameters !== null && (typeof parameters !== 'object' || Array.isArray(parameters))) {
      return usage(io, 'PARAMS_JSON must be a JSON object (or null), e.g. \'{"amount": 50}\'');
    }
  }

  let policy: CompiledPolicy;
  try {
    policy = compilePolicy(file);
  } catch (error) {
    return invalid(io, error);
  }
  const explanation = policy.explain(action, parameters);
  if (flags.includes('--json')) {
    io.out(JSON.stringify(explanation, null, 2));
  } else {
    printExplanation(policy, explanation, parameters, io);
  }
  return DECISION_EXIT[explanation.decision];
}

function printExplanation(
  policy: CompiledPolicy,
  explanation: PolicyExplanation,
  parameters: Record<string, unknown> | null,
  io: CliIO,
): void {
  const rules = policy.document.rules;
  io.out(`policy: ${policy.document.name} (${policy.source ?? 'object'}), ${rules.length} rules`);
  io.out(`action: ${explanation.action}`);
  io.out(`parameters: ${JSON.stringify(parameters)}`);
  const width = Math.min(40, Math.max(0, ...rules.map((rule) => rule.action.length)));
  for (const trace of explanation.rules) {
    io.out(`  [${trace.index}] ${trace.action.padEnd(width)}  ${describeTrace(trace, policy)}`);
  }
  io.out(
    `decision: ${explanation.decision}` +
      (explanation.ruleIndex < 0
        ? ' (no rule decided: default)'
        : ` (rules[${explanation.ruleIndex}])`),
  );
  io.out(`reason: ${explanation.reason}`);
}

function describeTrace(trace: RuleTrace, policy: CompiledPolicy): string {
  if (!trace.evaluated) return 'not reached (decided above)';
  if (!trace.globMatched) return 'action does not match';
  const rule = policy.document.rules[trace.index];
  const failed = trace.failedCondition;
  if (failed) {
    const text =
      `conditions[${failed.index}] ${failed.field} ${failed.operator} ${formatPythonValue(failed.value)} ` +
      `failed (got ${formatPythonValue(failed.actual)})`;
    return trace.outcome !== null
      ? `${text} → ${trace.outcome}`
      : `${text}; no on_violation → next rule`;
  }
  const what = (rule.conditions ?? []).length === 0 ? 'matches' : 'conditions pass';
  return trace.outcome !== null ? `${what} → ${trace.outcome}` : `${what}; no on_match → next rule`;
}

function usage(io: CliIO, problem: string): number {
  io.err(`provenance policy: ${problem}`);
  io.err(POLICY_USAGE);
  return EXIT.usage;
}

function invalid(io: CliIO, error: unknown): number {
  if (error instanceof PolicyValidationError) {
    io.err(error.message);
    return EXIT.usage;
  }
  throw error;
}
