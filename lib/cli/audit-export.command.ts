import { statSync } from 'node:fs';
import * as path from 'node:path';
import { createBundle, writeBundle } from '../engine/audit/audit-bundle';
import { loadKeys, parseArgs } from './audit.args';
import { AUDIT_EXIT, unreadable, usage } from './audit.usage';
import type { CliIO } from './cli.io';
import { terminalSafe } from './terminal-text';

/** `provenance audit export FILE --out BUNDLE.json|DIR [--public-key KEY.pem]` */
export async function exportBundle(args: string[], io: CliIO): Promise<number> {
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

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
