import { verifyChain, type AuditViolation } from '../engine/audit/audit-chain';
import { isAuditEventShape } from '../engine/audit/audit-chain';
import type { AuditEvent } from '../engine/audit/audit-event';
import { readAuditFile } from '../engine/audit/audit-log.file-store';
import type { AuditStoreContents } from '../engine/audit/audit-store';
import type { CliIO } from './cli.io';

export const AUDIT_EXIT = { ok: 0, broken: 1, usage: 2 } as const;

export const AUDIT_USAGE = [
  'Usage:',
  '  provenance audit verify FILE',
  '      Check the hash chain of an audit log (and its FILE.head anchor).',
  '      Exit 0 when valid, 1 when broken (the first broken position and why), 2 when unreadable.',
  '  provenance audit tail FILE [-n N]',
  '      Print the last N events (default 10), one line each.',
].join('\n');

const DEFAULT_TAIL = 10;

/** `provenance audit ...`, given the arguments after `audit`: resolves to the exit code. */
export async function runAuditCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case '--help':
    case '-h':
    case 'help':
      io.out(AUDIT_USAGE);
      return AUDIT_EXIT.ok;
    case 'verify':
      return verify(rest, io);
    case 'tail':
      return tail(rest, io);
    case undefined:
      return usage(io, 'missing audit command (verify or tail)');
    default:
      return usage(io, `unknown audit command '${sub}'`);
  }
}

async function verify(args: string[], io: CliIO): Promise<number> {
  if (args.length !== 1) return usage(io, 'audit verify takes exactly one FILE');
  const file = args[0];
  const contents = await read(file, io);
  if (contents === null) return AUDIT_EXIT.usage;
  const result = verifyChain(contents.records, contents.anchor);
  const torn = contents.tornTail
    ? ' (a torn last line, never acknowledged, was left out; it is removed on the next open)'
    : '';
  if (result.valid) {
    const head =
      result.anchor === null ? 'no head anchor' : `head anchor at ${result.anchor.position}`;
    io.out(`${file}: valid, ${result.eventsChecked} event(s) checked, ${head}${torn}`);
    return AUDIT_EXIT.ok;
  }
  io.out(
    `${file}: BROKEN at position ${result.firstBrokenPosition} ` +
      `(${result.eventsChecked} event(s) checked)${torn}`,
  );
  for (const violation of result.violations) io.out(`  ${formatViolation(violation)}`);
  return AUDIT_EXIT.broken;
}

async function tail(args: string[], io: CliIO): Promise<number> {
  let count = DEFAULT_TAIL;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-n' || arg === '--lines') {
      const value = args[++i];
      if (value === undefined || !/^\d+$/.test(value)) {
        return usage(io, `${arg} needs a non-negative whole number`);
      }
      count = Number(value);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) return usage(io, 'audit tail takes exactly one FILE');
  const contents = await read(positional[0], io);
  if (contents === null) return AUDIT_EXIT.usage;
  const records = count === 0 ? [] : contents.records.slice(-count);
  const first = contents.records.length - records.length;
  records.forEach((record, index) => io.out(formatRecord(record, first + index)));
  return AUDIT_EXIT.ok;
}

async function read(file: string, io: CliIO): Promise<AuditStoreContents | null> {
  try {
    return await readAuditFile(file);
  } catch (error) {
    io.err(
      `provenance audit: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}

function formatViolation(violation: AuditViolation): string {
  const id = violation.eventId === null ? '' : ` event ${violation.eventId}`;
  const detail =
    violation.expected === null && violation.actual === null
      ? ''
      : ` (expected ${String(violation.expected)}, found ${String(violation.actual)})`;
  return `position ${violation.position}${id}: ${violation.problem}: ${violation.message}${detail}`;
}

/** `#12 2026-01-02T03:04:05.678Z ALLOW payments.initiate [decision] session=s agent=a reason="..."` */
export function formatRecord(record: unknown, index: number): string {
  if (!isAuditEventShape(record)) return `#${index} (not a well-formed event)`;
  const event: AuditEvent = record;
  const parts = [
    `#${event.position}`,
    event.timestamp,
    event.decision,
    event.action,
    `[${event.kind}]`,
    `session=${event.sessionId}`,
    `agent=${event.agentId}`,
  ];
  if (event.escalationId !== null) parts.push(`escalation=${event.escalationId}`);
  if (event.actorHumanId !== null) parts.push(`by=${event.actorHumanId}`);
  parts.push(`reason=${JSON.stringify(event.reason)}`);
  if (event.approverReason !== undefined && event.approverReason !== null) {
    parts.push(`note=${JSON.stringify(event.approverReason)}`);
  }
  return parts.join(' ');
}

function usage(io: CliIO, problem: string): number {
  io.err(`provenance audit: ${problem}`);
  io.err(AUDIT_USAGE);
  return AUDIT_EXIT.usage;
}
