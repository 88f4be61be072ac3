/*
 * `provenance policy backtest` as a child process, on an audit log the real
 * engine wrote: which events count as calls, the transitions with their
 * counts and examples, --json, --fail-on-change, and exit 2 on bad input.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCliProcess } from '../../security/security.helpers';
import { EXPECTED, recordScenario, writePolicies } from './policy-backtest.fixture';

interface JsonReport {
  source: string;
  calls: number;
  unchanged: number;
  changed: number;
  unchangedByDecision: Record<string, number>;
  transitions: {
    from: string;
    to: string;
    count: number;
    examples: {
      position: number;
      id: string;
      action: string;
      sessionId: string;
      kind: string;
      recorded: { decision: string; reason: string };
      candidate: { decision: string; reason: string; ruleIndex: number };
    }[];
  }[];
  skipped: Record<string, number>;
  candidate: { name: string; hash: string; version: string | null };
}

describe('provenance policy backtest (child process)', () => {
  let dir: string;
  let log: string;
  let policies: { enforced: string; candidate: string };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-backtest-'));
    policies = writePolicies(dir);
    log = path.join(dir, 'audit.jsonl');
    await recordScenario(policies.enforced, { store: 'file', path: log, durable: false });
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--json: every transition counted, the non-calls skipped, examples capped by --examples', () => {
    const run = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      log,
      '--json',
      '--examples',
      '1',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.source).toBe(log);
    expect(report.candidate).toMatchObject({ name: 'candidate', version: '8' });
    expect(report.candidate.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.calls).toBe(EXPECTED.calls);
    expect(report.unchanged).toBe(EXPECTED.unchanged);
    expect(report.unchangedByDecision).toEqual(EXPECTED.unchangedByDecision);
    expect(report.changed).toBe(EXPECTED.changed);
    expect(report.transitions.map((t) => [t.from, t.to, t.count])).toEqual(EXPECTED.transitions);
    expect(report.skipped).toMatchObject(EXPECTED.skipped);
    for (const t of report.transitions) expect(t.examples).toHaveLength(1);
    const [emails] = report.transitions;
    expect(emails.examples[0]).toMatchObject({
      action: 'email.send',
      sessionId: 'sess_bt',
      kind: 'decision',
      recorded: { decision: 'ALLOW', reason: 'email is fine' },
      candidate: { decision: 'BLOCK', reason: 'not covered', ruleIndex: 5 },
    });
    const granted = report.transitions.find((t) => t.from === 'ESCALATE');
    expect(granted?.examples[0]).toMatchObject({ kind: 'grant.used', action: 'payments.initiate' });
    // The example names the event as the log has it.
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    const event = JSON.parse(lines[emails.examples[0].position]) as { id: string; action: string };
    expect(event).toMatchObject({ id: emails.examples[0].id, action: 'email.send' });
  });

  it('prints a readable summary; --fail-on-change exits 1, and 0 against the enforced policy', () => {
    const run = runCliProcess(['policy', 'backtest', policies.candidate, log, '--fail-on-change']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    const out = run.stdout.split('\n');
    expect(out[0]).toMatch(
      /^backtest of policy 'candidate' version 8 \(.*candidate\.yml, sha256 [0-9a-f]{12}\) against /,
    );
    expect(run.stdout).toContain('unchanged: 3 (ALLOW 2, BLOCK 0, ESCALATE 1)');
    expect(run.stdout).toContain('changed: 5');
    expect(run.stdout).toContain('  ALLOW → BLOCK: 2');
    expect(run.stdout).toContain('  BLOCK → ALLOW: 1');
    expect(run.stdout).toMatch(
      /#\d+ event \S+ data\.read session=sess_bt agent=agent-bt: was "no data access", now rules\[3\] "reading is fine"/,
    );
    const same = runCliProcess(['policy', 'backtest', policies.enforced, log, '--fail-on-change']);
    expect(same.status).toBe(0);
    expect(same.stdout).toContain('changed: 0');
    expect(same.stdout).toContain(`unchanged: ${EXPECTED.calls}`);
  });

  it('exits 2 naming the problem: a missing log, not an audit log, a bad option, a bad policy', () => {
    const missing = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      path.join(dir, 'nope.jsonl'),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('nope.jsonl: cannot read the audit log');
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const notLog = runCliProcess(['policy', 'backtest', policies.candidate, policies.enforced]);
    expect(notLog.status).toBe(2);
    expect(notLog.stderr).toContain('not an audit log');

    const badOption = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      log,
      '--examples',
      'x',
    ]);
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toContain("--examples needs a whole number from 0 to 1000, got 'x'");

    const both = runCliProcess([
      'policy',
      'backtest',
      policies.candidate,
      log,
      '--url',
      'postgres://x',
    ]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('not both');

    const badPolicy = path.join(dir, 'bad.yml');
    fs.writeFileSync(badPolicy, 'rules:\n  - action: x\n    on_match: allow\n');
    const invalid = runCliProcess(['policy', 'backtest', badPolicy, log]);
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain('rules[0].on_match');
  });

  it('reads a bundle (audit export) as it reads the log', () => {
    const bundle = path.join(dir, 'evidence.json');
    expect(runCliProcess(['audit', 'export', log, '--out', bundle]).status).toBe(0);
    const run = runCliProcess(['policy', 'backtest', policies.candidate, bundle, '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.source).toBe(`${bundle} (bundle)`);
    expect(report.calls).toBe(EXPECTED.calls);
    expect(report.transitions.map((t) => [t.from, t.to, t.count])).toEqual(EXPECTED.transitions);
  });

  it('streams: a damaged line is left out and counted, the rest replayed', () => {
    const damaged = path.join(dir, 'damaged.jsonl');
    const lines = fs.readFileSync(log, 'utf8').split('\n');
    lines.splice(1, 0, '{"not": "an event"}', 'garbage');
    fs.writeFileSync(damaged, lines.join('\n'));
    const run = runCliProcess(['policy', 'backtest', policies.enforced, damaged, '--json']);
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as JsonReport & { malformed: number };
    expect(report.malformed).toBe(2);
    expect(report.calls).toBe(EXPECTED.calls);
  });
});

describe('provenance policy backtest: the recorded policy', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-backtest-hash-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the policy hashes the calls were recorded with, when events carry them', async () => {
    const policies = writePolicies(dir);
    const log = path.join(dir, 'audit.jsonl');
    await recordScenario(policies.enforced, { store: 'file', path: log, durable: false });
    // Events that name their policy (policyHash, policyVersion): the first four one policy, the rest none.
    const hash = 'ab'.repeat(32);
    const lines = fs
      .readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line, index) => {
        const event = JSON.parse(line) as Record<string, unknown>;
        if (index < 4) Object.assign(event, { policyHash: hash, policyVersion: '7' });
        else {
          // Both or neither, as an event written before events named their policy.
          delete event.policyHash;
          delete event.policyVersion;
        }
        return JSON.stringify(event);
      });
    fs.writeFileSync(log, `${lines.join('\n')}\n`);
    const run = runCliProcess(['policy', 'backtest', policies.candidate, log]);
    expect(run.status).toBe(0);
    // Positions 0-3: 50, 200, 800 pending (calls) and its approval (not a call).
    expect(run.stdout).toContain('  recorded with policy sha256 abababababab version 7: 3 call(s)');
    expect(run.stdout).toContain(`  recorded without a policy hash: ${EXPECTED.calls - 3} call(s)`);
  });
});
