import { runCli } from '../../lib/cli/main';
import type { BacktestReport } from '../../lib/cli/policy-backtest.replay';
import { sampleFile } from '../sample.paths';
import { expectEqual, expectTrue } from './demo.report';

/**
 * The demo's backtest step: `provenance policy backtest` of a stricter
 * candidate (sample/demo/candidate-policy.yml) against the demo's own audit
 * log, printed, then checked: what tightens shows up (the 50 GBP payments
 * would wait for a human, the JPY payment would be blocked) and nothing
 * loosens.
 */
export async function backtestCandidate(
  auditFile: string,
  say: (line: string) => void,
): Promise<void> {
  const candidate = sampleFile('demo/candidate-policy.yml');
  const lines: string[] = [];
  const io = {
    out: (line: string) => lines.push(...line.split('\n')),
    err: (line: string) => lines.push(line),
  };
  say(`$ provenance policy backtest sample/demo/candidate-policy.yml ${auditFile}`);
  const code = await runCli(['policy', 'backtest', candidate, auditFile, '--examples', '1'], io);
  for (const line of lines) say(line);
  expectEqual('exit code', code, 0);

  const json: string[] = [];
  const jsonIo = { out: (line: string) => json.push(line), err: (line: string) => json.push(line) };
  expectEqual(
    '--json exit code',
    await runCli(['policy', 'backtest', candidate, auditFile, '--json'], jsonIo),
    0,
  );
  const report = JSON.parse(json.join('\n')) as BacktestReport;
  const transition = (from: string, to: string) =>
    report.transitions.find((t) => t.from === from && t.to === to);
  expectTrue('some calls replayed', report.calls > 0);
  expectTrue(
    'small payments would now wait for a human',
    (transition('ALLOW', 'ESCALATE')?.count ?? 0) > 0,
  );
  expectEqual(
    'blocked instead of escalated',
    transition('ESCALATE', 'BLOCK')?.examples.map((e) => e.candidate.reason),
    ['Payments in a currency other than GBP, USD or EUR are not allowed'],
  );
  expectEqual(
    'a stricter policy loosens nothing',
    report.transitions.filter(
      (t) => t.to === 'ALLOW' || (t.from === 'BLOCK' && t.to === 'ESCALATE'),
    ),
    [],
  );
  expectEqual(
    'every event read is a call, a non-call, or unreadable',
    report.eventsRead,
    report.calls + report.malformed + Object.values(report.skipped).reduce((a, b) => a + b, 0),
  );
}
