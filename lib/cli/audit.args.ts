import type { KeyObject } from 'node:crypto';
import { loadPublicKey } from '../engine/audit/audit-signing';
import type { CliIO } from './cli.io';
import { terminalSafe } from './terminal-text';

export interface Parsed {
  positional: string[];
  publicKeys: string[];
  flags: Set<string>;
  out: string | null;
  lines: string | null;
}

/** The options every audit command may take; anything else starting with `-` is refused. */
export function parseArgs(args: string[], allowed: readonly string[]): Parsed | string {
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

export function loadKeys(files: readonly string[], io: CliIO): KeyObject[] | null {
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
