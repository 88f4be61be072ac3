import { compilePolicy, type CompiledPolicy } from '../engine/policy';
import { DEFAULT_SCHEMA } from '../postgres/schema-name';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import type { CliIO } from './cli.io';
import { PolicyBacktestMessages as M } from './policy-backtest.messages';
import { printBacktest } from './policy-backtest.print';
import { backtest } from './policy-backtest.replay';
import {
  BacktestSourceError,
  openFileSource,
  openPostgresSource,
  type BacktestSource,
} from './policy-backtest.sources';
import { terminalSafe } from './terminal-text';

/** `provenance policy backtest`: 0 the report, 1 something changed (with --fail-on-change), 2 bad input. */
export const BACKTEST_EXIT = { ok: 0, changed: 1, usage: 2 } as const;

const DEFAULT_EXAMPLES = 3;
const MAX_EXAMPLES = 1000;
/** The tenant of an embedded gateway that names none (`tenantId` defaults to `local`). */
const DEFAULT_TENANT = 'local';

interface BacktestArgs {
  policy: string;
  file: string | null;
  url: string | null;
  schema: string;
  tenant: string;
  examples: number;
  json: boolean;
  failOnChange: boolean;
}

/** Given the arguments after `policy backtest`: resolves to the exit code. */
export async function runBacktestCommand(
  args: string[],
  io: CliIO,
  fail: (io: CliIO, problem: string) => number,
  invalidPolicy: (io: CliIO, error: unknown) => number,
): Promise<number> {
  const parsed = parseBacktestArgs(args);
  if (typeof parsed === 'string') return fail(io, parsed);
  let policy: CompiledPolicy;
  try {
    policy = compilePolicy(parsed.policy);
  } catch (error) {
    return invalidPolicy(io, error);
  }
  let source: BacktestSource;
  try {
    source =
      parsed.url === null
        ? await openFileSource(parsed.file as string)
        : await openPostgresSource(parsed.url, parsed.schema, parsed.tenant);
  } catch (error) {
    return unreadable(io, error);
  }
  try {
    const report = await backtest(policy, source.records, parsed.examples);
    if (report.eventsRead > 0 && report.malformed === report.eventsRead) {
      io.err(
        `provenance policy backtest: ${M.notAnAuditLog(source.description, report.eventsRead)}`,
      );
      return BACKTEST_EXIT.usage;
    }
    if (parsed.json) {
      io.out(JSON.stringify({ source: source.description, ...report }, null, 2));
    } else {
      printBacktest(report, source.description, io);
    }
    return parsed.failOnChange && report.changed > 0 ? BACKTEST_EXIT.changed : BACKTEST_EXIT.ok;
  } catch (error) {
    return unreadable(io, error);
  } finally {
    await source.close();
  }
}

function unreadable(io: CliIO, error: unknown): number {
  if (error instanceof BacktestSourceError || error instanceof ProvenanceConfigError) {
    io.err(`provenance policy backtest: ${terminalSafe(error.message)}`);
    return BACKTEST_EXIT.usage;
  }
  throw error;
}

const VALUE_FLAGS = ['--url', '--schema', '--tenant', '--examples'];
const BARE_FLAGS = ['--json', '--fail-on-change'];

/** The arguments, or what is wrong with them. */
export function parseBacktestArgs(args: string[]): BacktestArgs | string {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const bare = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const at = arg.indexOf('=');
    const flag = at === -1 ? arg : arg.slice(0, at);
    if (BARE_FLAGS.includes(flag) && at === -1) {
      bare.add(flag);
      continue;
    }
    if (!VALUE_FLAGS.includes(flag)) {
      return `unknown option '${terminalSafe(flag)}' for policy backtest`;
    }
    const value = at === -1 ? args[++i] : arg.slice(at + 1);
    if (value === undefined || value === '') return `${flag} needs a value`;
    values.set(flag, value);
  }
  if (positional.length === 0) return 'policy backtest takes a candidate POLICY file first';
  if (positional.length > 2) return 'policy backtest takes POLICY and one audit FILE (or --url)';
  const [policy, file = null] = positional;
  const url = values.get('--url') ?? null;
  if (file !== null && url !== null) return M.fileAndUrl();
  if (file === null && url === null) return M.noSource();
  for (const flag of ['--schema', '--tenant']) {
    if (url === null && values.has(flag)) return M.postgresOnly(flag);
  }
  let examples = DEFAULT_EXAMPLES;
  const wanted = values.get('--examples');
  if (wanted !== undefined) {
    if (!/^\d+$/.test(wanted) || Number(wanted) > MAX_EXAMPLES)
      return M.badExamples(terminalSafe(wanted));
    examples = Number(wanted);
  }
  return {
    policy,
    file,
    url,
    schema: values.get('--schema') ?? DEFAULT_SCHEMA,
    tenant: values.get('--tenant') ?? DEFAULT_TENANT,
    examples,
    json: bare.has('--json'),
    failOnChange: bare.has('--fail-on-change'),
  };
}
