import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { PostgresMessages } from './postgres.messages';

/** The schema the library's tables live in when none is configured. */
export const DEFAULT_SCHEMA = 'provenance';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name is the one thing ever written into SQL text (an identifier
 * cannot be a bind parameter): it must match `^[a-z_][a-z0-9_]{0,62}$`, and
 * is then double-quoted. Everything else goes in as a parameter.
 * Throws `ProvenanceConfigError` on `postgres.schema` before any SQL runs.
 */
export function quoteSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema)) {
    throw new ProvenanceConfigError(
      'postgres.schema',
      PostgresMessages.badSchema(typeof schema === 'string' ? schema : String(schema)),
    );
  }
  return `"${schema}"`;
}
