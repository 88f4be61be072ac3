import type { CliIO } from './cli.io';

// Placeholder until the audit commands land; the helper who writes them replaces this file.
export async function runAuditCommand(_args: string[], io: CliIO): Promise<number> {
  io.err('audit commands not available yet');
  return 2;
}
