import { exportBundle } from './audit-export.command';
import { keygen } from './audit-keygen.command';
import { tail } from './audit-tail.command';
import { verify } from './audit-verify.command';
import { AUDIT_EXIT, AUDIT_USAGE, usage } from './audit.usage';
import type { CliIO } from './cli.io';
import { safeLine, terminalSafe } from './terminal-text';

export { formatRecord } from './audit-tail.command';
export { AUDIT_EXIT, AUDIT_USAGE } from './audit.usage';

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
