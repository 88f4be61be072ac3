import type { Pool } from 'pg';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { redactConnectionString } from '../postgres/connection-string';
import { MIGRATIONS, migrate } from '../postgres/migrations';
import { loadPg, type RequireFunction } from '../postgres/pg-loader';
import { DEFAULT_SCHEMA, quoteSchema } from '../postgres/schema-name';
import type { CliIO } from './cli.io';
import { terminalSafe } from './terminal-text';

export const DB_EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const DB_USAGE = [
  'Usage:',
  `  provenance db migrate --url URL [--schema NAME]`,
  '      Create or update the PostgreSQL schema (default NAME: provenance) to the newest version and',
  '      print the versions applied. Safe to run while replicas start: each version is applied once.',
  '      URL defaults to PROVENANCE_DATABASE_URL. Exit 0 when current, 1 when the database failed,',
  '      2 on bad arguments or when the pg package is not installed.',
].join('\n');

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A pool for one CLI command on `url`: `max` connections, a connect timeout,
 * and a connection that drops while idle does not crash the command.
 */
export function openCliPool(url: string, max: number, requirePg?: RequireFunction): Pool {
  const pg = loadPg(requirePg);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  pool.on('error', () => undefined);
  return pool;
}

/** `provenance db ...`, given the arguments after `db`: resolves to the exit code. */
export async function runDbCommand(
  args: string[],
  io: CliIO,
  deps: { requirePg?: RequireFunction; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case '--help':
    case '-h':
    case 'help':
      io.out(DB_USAGE);
      return DB_EXIT.ok;
    case 'migrate':
      return migrateCommand(rest, io, deps.requirePg, deps.env ?? process.env);
    case undefined:
      return usage(io, 'missing db command (migrate)');
    default:
      return usage(io, `unknown db command '${terminalSafe(sub)}'`);
  }
}

async function migrateCommand(
  args: string[],
  io: CliIO,
  requirePg: RequireFunction | undefined,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg) : [arg, null];
    if (flag !== '--url' && flag !== '--schema') {
      return usage(io, `unknown argument '${terminalSafe(flag)}' for db migrate`);
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '') return usage(io, `${flag} needs a value`);
    options[flag.slice(2)] = value;
  }
  const url = options.url ?? env.PROVENANCE_DATABASE_URL;
  if (url === undefined || url === '') {
    return usage(io, 'db migrate needs --url URL (or PROVENANCE_DATABASE_URL)');
  }
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const shown = redactConnectionString(url);
  let pool: Pool;
  try {
    quoteSchema(schema);
    pool = openCliPool(url, 1, requirePg);
  } catch (error) {
    if (error instanceof ProvenanceConfigError) return usage(io, terminalSafe(error.message));
    io.err(`provenance db migrate: ${scrub(error, url)}`);
    return DB_EXIT.failed;
  }
  try {
    const applied = await migrate(pool, { schema });
    const latest = MIGRATIONS[MIGRATIONS.length - 1];
    if (applied.length === 0) {
      io.out(`schema ${schema} at ${shown} is current (v${latest.version}): nothing applied`);
    } else {
      for (const version of applied) {
        io.out(`applied v${version} (${MIGRATIONS[version - 1].name}) to schema ${schema}`);
      }
      io.out(`schema ${schema} at ${shown} is now at v${latest.version}`);
    }
    return DB_EXIT.ok;
  } catch (error) {
    io.err(`provenance db migrate: schema ${schema} at ${shown}: ${scrub(error, url)}`);
    return DB_EXIT.failed;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** An error's message with the connection string's password (if any) blanked out, on one line. */
export function scrub(error: unknown, url: string): string {
  let text = error instanceof Error ? error.message : String(error);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparseable URL: pg refuses it too, and nothing of it is printed below.
  }
  text = text.split(url).join(redactConnectionString(url));
  if (password !== '') text = text.split(password).join('***');
  return terminalSafe(text.replace(/\s+/g, ' '));
}

function splitOnce(arg: string): [string, string] {
  const at = arg.indexOf('=');
  return [arg.slice(0, at), arg.slice(at + 1)];
}

function usage(io: CliIO, message: string): number {
  io.err(`provenance db: ${message}`);
  io.err(DB_USAGE);
  return DB_EXIT.usage;
}
