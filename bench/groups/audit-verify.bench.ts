import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AuditLog,
  FileAuditStore,
  readAuditFile,
  verifyChain,
  type AuditEvent,
  type AuditEventInput,
} from '../../lib/engine';
import type { Budget } from '../bench.budget';
import { figure, type Figure, type GroupReport } from '../bench.figures';
import { elapsedNs, median, nowNs } from '../bench.stats';

/**
 * A 100 000-event log written by the real AuditLog and FileAuditStore
 * (durable: false, so writing it takes seconds), then verified as
 * `provenance audit verify` does: read and parse the file (readAuditFile),
 * then check every hash and link (verifyChain).
 */
const GROUP = 'audit';
const EVENTS = 100_000;
const WAVE = 1000;

function input(i: number): AuditEventInput {
  const kinds = [
    {
      action: 'payments.initiate',
      decision: 'ALLOW',
      reason: 'Payment within approved parameters',
    },
    { action: 'email.send', decision: 'ALLOW', reason: 'Agents may send email' },
    { action: 'data.delete', decision: 'BLOCK', reason: 'Agents may not modify stored data' },
    { action: 'search.web', decision: 'BLOCK', reason: 'Not covered by the sample policy' },
  ] as const;
  const kind = kinds[i % kinds.length];
  return {
    tenantId: 'local',
    sessionId: `sess_${(i >> 6).toString(16).padStart(16, '0')}`,
    agentId: 'bench-agent',
    action: kind.action,
    parameters: { amount: i % 500, currency: 'GBP', to: `acct_${i % 977}`, memo: `invoice ${i}` },
    decision: kind.decision,
    reason: kind.reason,
    kind: 'decision',
  };
}

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provenance-bench-audit-'));
  const file = path.join(dir, 'audit.jsonl');
  const figures: Figure[] = [];
  try {
    const count = budget.quick ? EVENTS / 10 : EVENTS;
    const log = new AuditLog({ store: new FileAuditStore(file, { durable: false }) });
    const writeStart = nowNs();
    for (let done = 0; done < count; done += WAVE) {
      const wave: Promise<AuditEvent>[] = [];
      for (let i = done; i < Math.min(count, done + WAVE); i++) wave.push(log.append(input(i)));
      await Promise.all(wave);
    }
    const writeSeconds = elapsedNs(writeStart) / 1e9;
    await log.close();
    const bytes = statSync(file).size;

    const readNs: number[] = [];
    const checkNs: number[] = [];
    for (let round = 0; round < budget.rounds + 1; round++) {
      const t0 = nowNs();
      const contents = await readAuditFile(file);
      const t1 = nowNs();
      const result = verifyChain(contents.records, contents.anchor);
      const t2 = nowNs();
      if (!result.valid || result.eventsChecked !== count) {
        throw new Error(
          `the generated log does not verify: ${JSON.stringify(result.violations[0])}`,
        );
      }
      // The first round warms up the parser and the hashing code.
      if (round === 0) continue;
      readNs.push(Number(t1 - t0));
      checkNs.push(Number(t2 - t1));
    }
    const read = median(readNs);
    const check = median(checkNs);
    const totals = readNs.map((r, i) => r + checkNs[i]);
    figures.push(
      figure(
        GROUP,
        'verify.eps',
        `verify a ${count}-event file (read + parse + chain check)`,
        (count * 1e9) / median(totals),
        'events/s',
      ),
      figure(GROUP, 'verify.seconds', 'verify: wall time', median(totals) / 1e9, 's'),
      figure(
        GROUP,
        'read.eps',
        'readAuditFile alone (read + JSON.parse per line)',
        (count * 1e9) / read,
        'events/s',
      ),
      figure(
        GROUP,
        'chain.eps',
        'verifyChain alone (shape, links, sha256 of canonical JSON)',
        (count * 1e9) / check,
        'events/s',
      ),
      figure(GROUP, 'file.bytesPerEvent', 'file size per event', bytes / count, 'B'),
      figure(
        GROUP,
        'write.eps',
        'writing it: AuditLog.append, file store, durable: false, waves of 1000',
        count / writeSeconds,
        'events/s',
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    group: GROUP,
    figures,
    context: { events: budget.quick ? EVENTS / 10 : EVENTS },
    seconds: (Date.now() - started) / 1000,
  };
}
