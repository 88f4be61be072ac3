import type { KeyObject } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import {
  createBundle,
  looksLikeBundle,
  parseBundle,
  writeBundle,
  type AuditSource,
} from '../engine/audit/audit-bundle';
import {
  isAuditEventShape,
  verifyChain,
  withViolations,
  type AuditVerification,
  type AuditViolation,
} from '../engine/audit/audit-chain';
import { checkpointPositions, verifyCheckpoints } from '../engine/audit/audit-checkpoints';
import type { AuditEvent } from '../engine/audit/audit-event';
import {
  parseStoredLine,
  readAuditFile,
  readCheckpointFile,
  streamAuditFile,
} from '../engine/audit/audit-log.file-store';
import { generateSigningKeyPair, loadPublicKey } from '../engine/audit/audit-signing';
import { verifyRecordStream, type StoredRecord } from '../engine/audit/audit-verify-stream';
import type { CliIO } from './cli.io';
import { quotedTerminalSafe, safeLine, terminalSafe } from './terminal-text';

export const AUDIT_EXIT = { ok: 0, broken: 1, usage: 2 } as const;

export const AUDIT_USAGE = [
  'Usage:',
  '  provenance audit verify FILE [--public-key KEY.pem]... [--require-checkpoints] [--require-signed-head]',
  '      Check the hash chain of an audit log (and its FILE.head anchor); with --public-key, also its',
  '      signed checkpoints (FILE.checkpoints). FILE may be a bundle (see export; --bundle to insist),',
  '      which is checked with its own key unless --public-key is given.',
  '      Exit 0 when valid, 1 when broken (the first broken position and why), 2 when unreadable.',
  '  provenance audit tail FILE [-n N]',
  '      Print the last N events (default 10), one line each.',
  '  provenance audit export FILE --out BUNDLE.json|DIR [--public-key KEY.pem]',
  '      Write one JSON file with the log, its anchor, its checkpoints and the public key, for an auditor.',
  '  provenance audit keygen PREFIX',
  '      Write a new Ed25519 signing key: PREFIX.key.pem (private, mode 0600) and PREFIX.pub.pem.',
].join('\n');

const DEFAULT_TAIL = 10;

/** `provenance audit ...`, given the arguments after `audit`: resolves to the exit code. */
export async function runAuditCommand(args: string[], io: CliIO): Promise<number> {
  // The last guard: every field is escaped where it is printed, and anything left is escaped here.
  const guard = (text: string) => text.split('\n').map(safeLine).join('\n');
  const safe: CliIO = { out: (line) => io.out(guard(line)), err: (line) => io.err(guard(line)) };
  const [sub, ...rest] = args;
  switch (sub) {
    case '--help':
    case '-h':
    case 'help':
      safe.out(AUDIT_USAGE);
      return AUDIT_EXIT.ok;
    case 'verify':
      return verify(rest, safe);
    case 'tail':
      return tail(rest, safe);
    case 'export':
      return exportBundle(rest, safe);
    case 'keygen':
      return keygen(rest, safe);
    case undefined:
      return usage(safe, 'missing audit command (verify, tail, export or keygen)');
    default:
      return usage(safe, `unknown audit command '${terminalSafe(sub)}'`);
  }
}

interface Parsed {
  positional: string[];
  publicKeys: string[];
  flags: Set<string>;
  out: string | null;
  lines: string | null;
}

/** The options every audit command may take; anything else starting with `-` is refused. */
function parseArgs(args: string[], allowed: readonly string[]): Parsed | string {
  const parsed: Parsed = {
    positional: [],
    publicKeys: [],
    flags: new Set(),
    out: null,
    lines: null,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positional.push(arg);
      continue;
    }
    if (!allowed.includes(arg)) return `unknown option '${terminalSafe(arg)}'`;
    if (arg === '--public-key' || arg === '--out' || arg === '-n' || arg === '--lines') {
      const value = args[++i];
      if (value === undefined) return `${arg} needs a value`;
      if (arg === '--public-key') parsed.publicKeys.push(value);
      else if (arg === '--out') parsed.out = value;
      else parsed.lines = value;
    } else {
      parsed.flags.add(arg);
    }
  }
  return parsed;
}

async function verify(args: string[], io: CliIO): Promise<number> {
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

async function tail(args: string[], io: CliIO): Promise<number> {
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

async function exportBundle(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, ['--out', '--public-key']);
  if (typeof parsed === 'string') return usage(io, parsed);
  if (parsed.positional.length !== 1) return usage(io, 'audit export takes exactly one FILE');
  if (parsed.out === null)
    return usage(io, 'audit export needs --out BUNDLE.json (or a directory)');
  if (parsed.publicKeys.length > 1) return usage(io, 'audit export takes one --public-key');
  const file = parsed.positional[0];
  const keys = loadKeys(parsed.publicKeys, io);
  if (keys === null) return AUDIT_EXIT.usage;
  let out = parsed.out;
  if (isDirectory(out)) out = path.join(out, `${path.basename(file)}.bundle.json`);
  try {
    const bundle = await createBundle(file, keys[0] ?? null);
    await writeBundle(bundle, out);
    const key = bundle.keyId === null ? 'no public key' : `key ${bundle.keyId}`;
    io.out(
      `${terminalSafe(out)}: bundle of ${bundle.events.length} event(s), ` +
        `${bundle.checkpoints.length} checkpoint(s), ${key}`,
    );
    return AUDIT_EXIT.ok;
  } catch (error) {
    return unreadable(io, file, error);
  }
}

async function keygen(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArgs(args, []);
  if (typeof parsed === 'string') return usage(io, parsed);
  if (parsed.positional.length !== 1) return usage(io, 'audit keygen takes exactly one PREFIX');
  const prefix = parsed.positional[0];
  const privateFile = `${prefix}.key.pem`;
  const publicFile = `${prefix}.pub.pem`;
  const pair = generateSigningKeyPair();
  try {
    // 'wx': never overwrite a key (a lost private key cannot be made again).
    await fs.writeFile(privateFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    return unreadable(io, privateFile, error, 'cannot write');
  }
  try {
    await fs.writeFile(publicFile, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    await fs.rm(privateFile, { force: true });
    return unreadable(io, publicFile, error, 'cannot write');
  }
  io.out(
    `${terminalSafe(privateFile)}: private key (mode 0600): the gateway's audit.signingKey or PROVENANCE_AUDIT_SIGNING_KEY; keep it secret`,
  );
  io.out(`${terminalSafe(publicFile)}: public key: for provenance audit verify --public-key`);
  io.out(`key id ${pair.keyId}`);
  return AUDIT_EXIT.ok;
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

async function readHead(file: string): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

function loadKeys(files: readonly string[], io: CliIO): KeyObject[] | null {
  const keys: KeyObject[] = [];
  for (const file of files) {
    try {
      keys.push(loadPublicKey(file, `--public-key ${file}`));
    } catch (error) {
      io.err(`provenance audit: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  }
  return keys;
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function unreadable(io: CliIO, file: string, error: unknown, what = 'cannot read'): number {
  io.err(
    `provenance audit: ${what} ${terminalSafe(file)}: ${error instanceof Error ? error.message : String(error)}`,
  );
  return AUDIT_EXIT.usage;
}

function formatViolation(violation: AuditViolation): string {
  const id = violation.eventId === null ? '' : ` event ${terminalSafe(violation.eventId)}`;
  const detail =
    violation.expected === null && violation.actual === null
      ? ''
      : ` (expected ${terminalSafe(String(violation.expected))}, found ${terminalSafe(String(violation.actual))})`;
  return `position ${violation.position}${id}: ${violation.problem}: ${terminalSafe(violation.message)}${detail}`;
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
  return parts.join(' ');
}

function usage(io: CliIO, problem: string): number {
  io.err(`provenance audit: ${problem}`);
  io.err(AUDIT_USAGE);
  return AUDIT_EXIT.usage;
}
