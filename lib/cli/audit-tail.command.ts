import type { AuditEvent } from '../engine/audit/audit-event';
import { isAuditEventShape } from '../engine/audit/audit-event.shape';
import { parseStoredLine, streamAuditFile } from '../engine/audit/audit-log.file-store';
import { parseArgs } from './audit.args';
import { AUDIT_EXIT, unreadable, usage } from './audit.usage';
import type { CliIO } from './cli.io';
import { quotedTerminalSafe, terminalSafe } from './terminal-text';

const DEFAULT_TAIL = 10;

/** `provenance audit tail FILE [-n N]`: the last N events, one line each. */
export async function tail(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, ['-n', '--lines']);
  if (typeof parsed === 'string') return usage(io, parsed);
  let count = DEFAULT_TAIL;
  if (parsed.lines !== null) {
    if (!/^\d+$/.test(parsed.lines)) return usage(io, '-n needs a non-negative whole number');
    count = Number(parsed.lines);
  }
  if (parsed.positional.length !== 1) return usage(io, 'audit tail takes exactly one FILE');
  const file = parsed.positional[0];
  // Streamed, keeping the last `count` lines only: a log of any length.
  const kept: string[] = [];
  let total = 0;
  try {
    const stream = await streamAuditFile(file);
    for await (const line of stream.lines) {
      if (count > 0) {
        if (kept.length < count) kept.push(line);
        else kept[total % count] = line;
      }
      total++;
    }
  } catch (error) {
    return unreadable(io, file, error);
  }
  const split = total > kept.length ? total % count : 0;
  const lines = [...kept.slice(split), ...kept.slice(0, split)];
  const first = total - lines.length;
  lines.forEach((line, index) => io.out(formatRecord(parseStoredLine(line), first + index)));
  return AUDIT_EXIT.ok;
}

/** `#12 2026-01-02T03:04:05.678Z ALLOW payments.initiate [decision] session=s agent=a reason="..."` */
export function formatRecord(record: unknown, index: number): string {
  if (!isAuditEventShape(record)) return `#${index} (not a well-formed event)`;
  const event: AuditEvent = record;
  const parts = [
    `#${event.position}`,
    terminalSafe(event.timestamp),
    event.decision,
    terminalSafe(event.action),
    `[${event.kind}]`,
    `session=${terminalSafe(event.sessionId)}`,
    `agent=${terminalSafe(event.agentId)}`,
  ];
  if (event.escalationId !== null) parts.push(`escalation=${terminalSafe(event.escalationId)}`);
  if (event.actorHumanId !== null) parts.push(`by=${terminalSafe(event.actorHumanId)}`);
  parts.push(`reason=${quotedTerminalSafe(event.reason)}`);
  if (event.approverReason !== undefined && event.approverReason !== null) {
    parts.push(`note=${quotedTerminalSafe(event.approverReason)}`);
  }
  if (event.policyHash !== undefined) {
    // The policy that decided: its hash's first 12 digits, and its version when it has one.
    const version = event.policyVersion ?? null;
    parts.push(
      `policy=${event.policyHash.slice(0, 12)}${version === null ? '' : `@${terminalSafe(version)}`}`,
    );
  }
  return parts.join(' ');
}
