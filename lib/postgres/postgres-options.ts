import { ProvenanceConfigError } from '../protocol/provenance.errors';
import type { PostgresOptions } from './postgres-context';
import { PostgresMessages } from './postgres.messages';
import { PostgresOptionMessages } from './postgres-options.messages';
import { DEFAULT_SCHEMA, quoteSchema } from './schema-name';

/** The connection string read when `postgres` gives neither `connectionString` nor `pool`. */
export const DATABASE_URL_ENV = 'PROVENANCE_DATABASE_URL';
/** The schema `npm run gateway` uses when set (the option `schema` elsewhere). */
export const DATABASE_SCHEMA_ENV = 'PROVENANCE_DATABASE_SCHEMA';

/** What the `postgres` option may be: `true` takes everything from the defaults and the environment. */
export type PostgresSetting = PostgresOptions | true;

/** Valid `PostgresOptions` with every default filled: exactly one of `connectionString` and `pool`. */
export type ResolvedPostgresOptions = PostgresOptions & {
  schema: string;
  migrate: boolean;
  maxConnections: number;
};

const FIELDS = ['connectionString', 'pool', 'schema', 'migrate', 'maxConnections'] as const;

/**
 * Checks a `postgres` setting and fills its defaults, at start-up, before any
 * connection: every error is a ProvenanceConfigError naming the field
 * (`postgres.schema`, `postgres.pool`, ...). Without `connectionString` and
 * `pool`, the connection string is PROVENANCE_DATABASE_URL from `env`. The
 * connection string is never shown (it may hold a password), and is not
 * enumerable on the result, so a logger dumping the options does not print it.
 */
export function resolvePostgresOptions(
  setting: unknown,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedPostgresOptions {
  const option = 'postgres';
  const given = setting === true ? {} : setting;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ProvenanceConfigError(option, PostgresOptionMessages.badSetting(option));
  }
  const input = given as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(FIELDS as readonly string[]).includes(key) && input[key] !== undefined) {
      const known = FIELDS.map((field) => `${option}.${field}`);
      throw new ProvenanceConfigError(
        `${option}.${key}`,
        PostgresOptionMessages.unknownField(`${option}.${key}`, known),
      );
    }
  }
  const resolved = {
    schema: schemaOf(input.schema),
    migrate: booleanOf(input.migrate, `${option}.migrate`, true),
    maxConnections: maxConnectionsOf(input.maxConnections, `${option}.maxConnections`),
  } as ResolvedPostgresOptions;
  const connection = connectionOf(input, env, option);
  if ('pool' in connection) {
    resolved.pool = connection.pool;
  } else {
    Object.defineProperty(resolved, 'connectionString', {
      value: connection.connectionString,
      enumerable: false,
    });
  }
  return resolved;
}

function connectionOf(
  input: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  option: string,
): { pool: NonNullable<PostgresOptions['pool']> } | { connectionString: string } {
  const { pool, connectionString } = input;
  const hasPool = pool !== undefined && pool !== null;
  const hasUrl = connectionString !== undefined && connectionString !== null;
  if (hasPool && hasUrl) {
    throw new ProvenanceConfigError(`${option}.pool`, PostgresMessages.poolAndUrl());
  }
  if (hasPool) {
    if (!isPool(pool)) {
      throw new ProvenanceConfigError(
        `${option}.pool`,
        PostgresOptionMessages.badField(
          `${option}.pool`,
          'a pg.Pool (an object with connect, query and end)',
          describe(pool),
        ),
      );
    }
    return { pool: pool as NonNullable<PostgresOptions['pool']> };
  }
  if (hasUrl) {
    if (typeof connectionString !== 'string' || connectionString.trim() === '') {
      // Its type only: the value may hold a password.
      throw new ProvenanceConfigError(
        `${option}.connectionString`,
        PostgresOptionMessages.badField(
          `${option}.connectionString`,
          'a postgres:// URL',
          typeof connectionString === 'string' ? 'a blank string' : typeof connectionString,
        ),
      );
    }
    return { connectionString: connectionString.trim() };
  }
  const fromEnv = env[DATABASE_URL_ENV]?.trim();
  if (fromEnv === undefined || fromEnv === '') {
    throw new ProvenanceConfigError(`${option}.connectionString`, PostgresMessages.noConnection());
  }
  return { connectionString: fromEnv };
}

/** Throws a ProvenanceConfigError on postgres.schema for a name that is not a plain identifier. */
function schemaOf(value: unknown): string {
  if (value === undefined || value === null) return DEFAULT_SCHEMA;
  quoteSchema(value);
  return value as string;
}

function booleanOf(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;
  throw new ProvenanceConfigError(
    option,
    PostgresOptionMessages.badField(option, 'true or false', describe(value)),
  );
}

function maxConnectionsOf(value: unknown, option: string): number {
  if (value === undefined || value === null) return 10;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  throw new ProvenanceConfigError(
    option,
    PostgresOptionMessages.badField(option, 'a positive whole number', describe(value)),
  );
}

function isPool(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const pool = value as Record<string, unknown>;
  return ['connect', 'query', 'end'].every((method) => typeof pool[method] === 'function');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
