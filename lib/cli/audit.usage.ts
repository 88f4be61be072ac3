import { terminalSafe } from './terminal-text';
import type { CliIO } from './cli.io';

/* The exit codes and usage of `provenance audit`, and how a command says it cannot go on. */

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

export function unreadable(io: CliIO, file: string, error: unknown, what = 'cannot read'): number {
  io.err(
    `provenance audit: ${what} ${terminalSafe(file)}: ${error instanceof Error ? error.message : String(error)}`,
  );
  return AUDIT_EXIT.usage;
}

export function usage(io: CliIO, problem: string): number {
  io.err(`provenance audit: ${problem}`);
  io.err(AUDIT_USAGE);
  return AUDIT_EXIT.usage;
}
