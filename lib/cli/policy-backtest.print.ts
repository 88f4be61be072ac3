import type { CliIO } from './cli.io';
import { PolicyBacktestMessages as M } from './policy-backtest.messages';
import type { BacktestExample, BacktestReport } from './policy-backtest.replay';
import { quotedTerminalSafe, terminalSafe } from './terminal-text';

/** The report of `provenance policy backtest`, for a reader (docs/cli.md shows one). */
export function printBacktest(report: BacktestReport, source: string, io: CliIO): void {
  const { candidate } = report;
  const version = candidate.version === null ? '' : ` version ${terminalSafe(candidate.version)}`;
  io.out(
    `backtest of policy '${terminalSafe(candidate.name)}'${version} ` +
      `(${terminalSafe(candidate.source ?? 'object')}, sha256 ${candidate.hash.slice(0, 12)}) ` +
      `against ${terminalSafe(source)}`,
  );
  printRecordedPolicies(report, io);
  const skipped = Object.entries(report.skipped)
    .map(([kind, count]) => `${terminalSafe(kind)} ${count}`)
    .join(', ');
  io.out(
    `${report.eventsRead} event(s) read: ${report.calls} call(s) replayed` +
      (skipped === '' ? '' : `; not calls: ${skipped}`) +
      (report.malformed === 0 ? '' : `; ${report.malformed} unreadable record(s) left out`),
  );
  if (report.eventsRead === 0) io.out(M.emptyLog());
  const by = report.unchangedByDecision;
  io.out(
    `unchanged: ${report.unchanged} (ALLOW ${by.ALLOW}, BLOCK ${by.BLOCK}, ESCALATE ${by.ESCALATE})`,
  );
  io.out(`changed: ${report.changed}`);
  for (const transition of report.transitions) {
    io.out(`  ${transition.from} → ${transition.to}: ${transition.count}`);
    for (const example of transition.examples) io.out(`    ${formatExample(example)}`);
    const more = transition.count - transition.examples.length;
    if (more > 0 && transition.examples.length > 0) io.out(`    … and ${more} more`);
  }
}

function printRecordedPolicies(report: BacktestReport, io: CliIO): void {
  for (const recorded of report.recordedPolicies) {
    const version = recorded.version === null ? '' : ` version ${terminalSafe(recorded.version)}`;
    const same = recorded.hash === report.candidate.hash ? ' (the candidate itself)' : '';
    io.out(
      `  recorded with policy sha256 ${terminalSafe(recorded.hash.slice(0, 12))}${version}: ` +
        `${recorded.calls} call(s)${same}`,
    );
  }
  if (report.callsWithOtherPolicies > 0) {
    io.out(`  recorded with other policies: ${report.callsWithOtherPolicies} call(s)`);
  }
  if (report.recordedPolicies.length > 0 && report.callsWithoutPolicyHash > 0) {
    io.out(`  recorded without a policy hash: ${report.callsWithoutPolicyHash} call(s)`);
  }
}

/** `#12 3f2a… payments.initiate session=s agent=a [grant.used] "was" → rules[1] "now"` */
function formatExample(example: BacktestExample): string {
  const rule =
    example.candidate.ruleIndex < 0 ? 'default' : `rules[${example.candidate.ruleIndex}]`;
  const kind = example.kind === 'decision' ? '' : ` [${example.kind}]`;
  return (
    `#${example.position} event ${terminalSafe(example.id)} ${terminalSafe(example.action)} ` +
    `session=${terminalSafe(example.sessionId)} agent=${terminalSafe(example.agentId)}${kind}: ` +
    `was ${quotedTerminalSafe(example.recorded.reason)}, ` +
    `now ${rule} ${quotedTerminalSafe(example.candidate.reason)}`
  );
}
