import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { looksLikeBundle, parseBundle, type AuditSource } from '../engine/audit/audit-bundle';
import {
  verifyChain,
  withViolations,
  type AuditVerification,
  type AuditViolation,
} from '../engine/audit/audit-chain';
import { checkpointPositions, verifyCheckpoints } from '../engine/audit/audit-checkpoints';
import {
  parseStoredLine,
  readAuditFile,
  readCheckpointFile,
  streamAuditFile,
} from '../engine/audit/audit-log.file-store';
import { verifyRecordStream, type StoredRecord } from '../engine/audit/audit-verify-stream';
import { loadKeys, parseArgs } from './audit.args';
import { AUDIT_EXIT, unreadable, usage } from './audit.usage';
import type { CliIO } from './cli.io';
import { terminalSafe } from './terminal-text';

/** `provenance audit verify FILE [--public-key KEY.pem]... [--require-checkpoints] [--require-signed-head] [--bundle]` */
export async function verify(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, [
    '--public-key',
    '--require-checkpoints',
    '--require-signed-head',
    '--bundle',
  ]);
  if (typeof parsed === 'string') return usage(io, parsed);
  if (parsed.positional.length !== 1) return usage(io, 'audit verify takes exactly one FILE');
  const file = parsed.positional[0];
  const shown = terminalSafe(file);
  const keys = loadKeys(parsed.publicKeys, io);
  if (keys === null) return AUDIT_EXIT.usage;
  const requireCheckpoints = parsed.flags.has('--require-checkpoints');
  const requireSignedHead = parsed.flags.has('--require-signed-head');
  const bundle = await isBundleFile(file, parsed.flags.has('--bundle'), io);
  if (bundle === null) return AUDIT_EXIT.usage;
  let source: AuditSource;
  let result: AuditVerification;
  let trusted: KeyObject[];
  if (bundle) {
    const read = await readSource(file, true, io);
    if (read === null) return AUDIT_EXIT.usage;
    source = read;
    trusted = keys.length > 0 ? keys : source.bundleKey === null ? [] : [source.bundleKey];
    if ((requireCheckpoints || requireSignedHead) && trusted.length === 0) {
      return usage(io, '--require-checkpoints and --require-signed-head need --public-key');
    }
    result = verifyChain(source.records, source.anchor, { lines: source.lines });
    if (trusted.length > 0) {
      const checked = verifyCheckpoints(source.records, source.checkpoints ?? [], {
        publicKeys: trusted,
        requireCheckpoints,
        requireSignedHead,
      });
      result = withViolations({ ...result, checkpoints: checked.summary }, checked.violations);
    }
  } else {
    trusted = keys;
    if ((requireCheckpoints || requireSignedHead) && trusted.length === 0) {
      return usage(io, '--require-checkpoints and --require-signed-head need --public-key');
    }
    // A log file is streamed: verifying one of any length holds a chunk and a line, not the file.
    let streamed: { source: AuditSource; result: AuditVerification };
    try {
      streamed = await verifyLogFile(file, trusted, { requireCheckpoints, requireSignedHead });
    } catch (error) {
      unreadable(io, file, error);
      return AUDIT_EXIT.usage;
    }
    ({ source, result } = streamed);
  }
  const torn = source.tornTail
    ? ' (a torn last line, never acknowledged, was left out; it is removed on the next open)'
    : '';
  if (result.valid) {
    const head =
      result.anchor === null ? 'no head anchor' : `head anchor at ${result.anchor.position}`;
    io.out(`${shown}: valid, ${result.eventsChecked} event(s) checked, ${head}${torn}`);
  } else {
    io.out(
      `${shown}: BROKEN at position ${result.firstBrokenPosition} ` +
        `(${result.eventsChecked} event(s) checked)${torn}`,
    );
    for (const violation of result.violations) io.out(`  ${formatViolation(violation)}`);
  }
  printCheckpoints(io, result, source, keys.length === 0 && trusted.length > 0);
  return result.valid ? AUDIT_EXIT.ok : AUDIT_EXIT.broken;
}

function printCheckpoints(
  io: CliIO,
  result: AuditVerification,
  source: AuditSource,
  fromBundle: boolean,
): void {
  const summary = result.checkpoints;
  const found = source.checkpoints?.length ?? 0;
  if (summary === undefined) {
    if (found > 0) {
      io.out(
        `  checkpoints: ${found} found, not checked (give --public-key KEY.pem to check them)`,
      );
    }
    return;
  }
  const keys = summary.keyIds.join(', ');
  if (fromBundle) {
    io.out(
      `  key ${keys} is the bundle's own: compare it with the key you trust, or pass --public-key`,
    );
  }
  if (summary.signedThrough === null) {
    io.out(
      `  checkpoints: ${summary.verified} of ${summary.found} verified with key ${keys}; no event is signed`,
    );
    return;
  }
  const after =
    summary.unsignedEvents === 0
      ? 'every event is signed'
      : `${summary.unsignedEvents} event(s) after it are only hash-chained`;
  io.out(
    `  checkpoints: ${summary.verified} of ${summary.found} verified with key ${keys}; ` +
      `signed through position ${summary.signedThrough} (last: ${summary.lastReason ?? '?'}); ${after}`,
  );
}

/** An audit file with its checkpoint file, or a bundle. Null (after saying why) when unreadable. */
async function readSource(file: string, bundle: boolean, io: CliIO): Promise<AuditSource | null> {
  try {
    const head = await readHead(file);
    if (bundle || looksLikeBundle(head)) return parseBundle(await fs.readFile(file, 'utf8'));
    const contents = await readAuditFile(file);
    const checkpoints = await readCheckpointFile(file);
    return {
      records: contents.records,
      lines: contents.lines ?? [],
      anchor: contents.anchor,
      tornTail: contents.tornTail,
      checkpoints: checkpoints.exists ? checkpoints.records : null,
      bundleKey: null,
    };
  } catch (error) {
    unreadable(io, file, error);
    return null;
  }
}

/** Whether FILE is a bundle (`--bundle` insists); null (after saying why) when unreadable. */
async function isBundleFile(file: string, bundle: boolean, io: CliIO): Promise<boolean | null> {
  if (bundle) return true;
  try {
    return looksLikeBundle(await readHead(file));
  } catch (error) {
    unreadable(io, file, error);
    return null;
  }
}

/**
 * Verifies an audit file as a stream: the checkpoints and the anchor first
 * (they are written after the events they name), then the log line by line,
 * keeping only the records at the checkpoints' positions. The source returned
 * holds no records: only what printing needs.
 */
async function verifyLogFile(
  file: string,
  trusted: KeyObject[],
  options: { requireCheckpoints: boolean; requireSignedHead: boolean },
): Promise<{ source: AuditSource; result: AuditVerification }> {
  const checkpoints = await readCheckpointFile(file);
  const stream = await streamAuditFile(file);
  const wanted = trusted.length > 0 ? checkpointPositions(checkpoints.records) : new Set<number>();
  const { verification, lookup } = await verifyRecordStream(
    parsedLines(stream.lines),
    stream.anchor,
    (index) => wanted.has(index),
  );
  let result = verification;
  if (trusted.length > 0) {
    const checked = verifyCheckpoints(lookup, checkpoints.records, {
      publicKeys: trusted,
      ...options,
    });
    result = withViolations({ ...result, checkpoints: checked.summary }, checked.violations);
  }
  const source: AuditSource = {
    records: [],
    lines: [],
    anchor: stream.anchor,
    tornTail: stream.tornTail(),
    checkpoints: checkpoints.exists ? checkpoints.records : null,
    bundleKey: null,
  };
  return { source, result };
}

async function* parsedLines(lines: AsyncIterable<string>): AsyncGenerator<StoredRecord> {
  for await (const line of lines) yield { record: parseStoredLine(line), line };
}

/** The first 256 bytes of a file, as text: enough to tell a bundle from a log. */
export async function readHead(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

function formatViolation(violation: AuditViolation): string {
  const id = violation.eventId === null ? '' : ` event ${terminalSafe(violation.eventId)}`;
  const detail =
    violation.expected === null && violation.actual === null
      ? ''
      : ` (expected ${terminalSafe(String(violation.expected))}, found ${terminalSafe(String(violation.actual))})`;
  return `position ${violation.position}${id}: ${violation.problem}: ${terminalSafe(violation.message)}${detail}`;
}
