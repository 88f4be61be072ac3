import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { PostgresOptionMessages } from '../postgres/postgres-options.messages';
import { resolvePostgresOptions, type ResolvedPostgresOptions } from '../postgres/postgres-options';
import type { ProvenanceGatewayServerOptions } from './options';

/**
 * The server's `postgres` option, checked (errors name `postgres.<field>`),
 * or null when it is off. PROVENANCE_DATABASE_URL is the connection when the
 * option gives none. The audit trail is then in the database: an audit store,
 * folder or durability setting is refused rather than ignored, and so is a
 * signing key (checkpoints of a chain several replicas extend are not designed yet).
 */
export function serverPostgres(
  options: ProvenanceGatewayServerOptions,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedPostgresOptions | null {
  if (options.postgres === undefined || options.postgres === null) return null;
  const postgres = resolvePostgresOptions(options.postgres, env);
  const audit = (options.audit ?? {}) as Record<string, unknown>;
  for (const field of ['store', 'dir', 'durable']) {
    if (audit[field] !== undefined && audit[field] !== null) {
      throw new ProvenanceConfigError(
        `audit.${field}`,
        PostgresOptionMessages.auditStoreRefused(`audit.${field}`, postgres.schema),
      );
    }
  }
  if (audit.signingKey !== undefined && audit.signingKey !== null) {
    throw new ProvenanceConfigError(
      'audit.signingKey',
      PostgresOptionMessages.signingKeyRefused(false),
    );
  }
  return postgres;
}
