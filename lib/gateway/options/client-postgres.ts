import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { PostgresOptionMessages } from '../../postgres/postgres-options.messages';
import {
  resolvePostgresOptions,
  type ResolvedPostgresOptions,
} from '../../postgres/postgres-options';
import type { ProvenanceClientOptions, ResolvedClientOptions } from '../provenance-client.options';
import type { OptionEnv } from './resolve-option-table';

type Resolved = Omit<ResolvedClientOptions, 'mode' | 'postgres'> & { postgres: unknown };

/**
 * The `postgres` option, checked field by field (errors name `postgres.<field>`)
 * with PROVENANCE_DATABASE_URL as the connection when it gives none, and the
 * rules that tie it to the other options: it is for the embedded gateway (not
 * with `gatewayUrl`), the audit trail is then in the database (no
 * `audit.store`, `path` or `durable`), and signed checkpoints are refused
 * (checkpoints of a chain several replicas extend are not designed yet).
 *
 * The variable alone never turns postgres on in an application: where its
 * audit trail lives is a choice of the application's code (like
 * `audit.store`), and a variable set for a gateway server on the same
 * machine must not move it. `npm run gateway` reads it on its own.
 */
export function resolveClientPostgres(
  resolved: Resolved,
  options: ProvenanceClientOptions,
  env: OptionEnv,
): ResolvedPostgresOptions | null {
  if (resolved.postgres === null || resolved.postgres === undefined) return null;
  const postgres = resolvePostgresOptions(resolved.postgres, env);
  if (resolved.gatewayUrl !== null) {
    throw new ProvenanceConfigError('postgres', PostgresOptionMessages.remoteGatewayRefused());
  }
  const audit = (options.audit ?? {}) as Record<string, unknown>;
  for (const field of ['store', 'path', 'durable']) {
    if (audit[field] !== undefined && audit[field] !== null) {
      throw new ProvenanceConfigError(
        `audit.${field}`,
        PostgresOptionMessages.auditStoreRefused(`audit.${field}`, postgres.schema),
      );
    }
  }
  if (resolved.audit.signingKey !== undefined) {
    const fromEnv = audit.signingKey === undefined || audit.signingKey === null;
    throw new ProvenanceConfigError(
      'audit.signingKey',
      PostgresOptionMessages.signingKeyRefused(fromEnv),
    );
  }
  return postgres;
}
