import type * as Pg from 'pg';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { PostgresMessages } from './postgres.messages';

/** node-postgres, as `require('pg')` returns it. */
export type PgModule = typeof Pg;

/** How the loader requires a module: the real `require` unless a test injects a failing one. */
export type RequireFunction = (id: string) => unknown;

/**
 * Loads `pg` (node-postgres) on first use. It is an optional peer dependency:
 * an application that never configures `postgres` never loads it, and one
 * that does but has not installed it fails at start-up with a
 * `ProvenanceConfigError` on `postgres` that says what to install.
 */
export function loadPg(requireFn: RequireFunction = require): PgModule {
  let loaded: unknown;
  try {
    loaded = requireFn('pg');
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ProvenanceConfigError('postgres', PostgresMessages.pgMissing(detail));
  }
  const pg = loaded as Partial<PgModule> | null;
  if (pg === null || typeof pg !== 'object' || typeof pg.Pool !== 'function') {
    throw new ProvenanceConfigError(
      'postgres',
      PostgresMessages.pgMissing("require('pg') did not return node-postgres (no Pool)"),
    );
  }
  return pg as PgModule;
}
