#!/usr/bin/env node
import { runAuditCommand } from './audit.command';
import { outputFailed, processIO, watchOutputClosing, type CliIO } from './cli.io';
import { CliMessages } from './cli.messages';
import { runDbCommand } from './db.command';
import { EXIT, POLICY_USAGE, runPolicyCommand } from './policy.command';

/** Exit code when the CLI itself fails (a bug, not a decision): never 0, never a decision's code. */
export const EXIT_INTERNAL = 70;

export const USAGE = [
  'provenance: policy and audit tools for nestjs-provenance',
  '',
  POLICY_USAGE,
  '  provenance audit --help',
  '      Audit log commands.',
  '  provenance db --help',
  '      PostgreSQL schema commands (db migrate).',
].join('\n');

/** The `provenance` command line, callable in-process: resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      io.err(USAGE);
      return EXIT.usage;
    case '--help':
    case '-h':
    case 'help':
      io.out(USAGE);
      return EXIT.ok;
    case 'policy':
      return runPolicyCommand(rest, io);
    case 'audit':
      return runAuditCommand(rest, io);
    case 'db':
      return runDbCommand(rest, io);
    default:
      io.err(`provenance: unknown command '${command}'`);
      io.err(USAGE);
      return EXIT.usage;
  }
}

if (require.main === module) {
  // `provenance … | head`: a reader that leaves early ends the output, not the command (cli.io.ts).
  watchOutputClosing();
  runCli(process.argv.slice(2), processIO).then(
    (code) => {
      const failure = outputFailed();
      if (failure !== null) processIO.err(CliMessages.outputFailed(failure.message));
      process.exitCode = failure === null ? code : EXIT_INTERNAL;
    },
    (error: unknown) => {
      processIO.err(
        `provenance: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exitCode = EXIT_INTERNAL;
    },
  );
}
