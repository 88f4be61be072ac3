import type { CompiledPolicy } from '../engine/policy/policy.types';
import type { GatewayTransport } from '../transport/gateway-transport';
import { HttpTransport } from '../transport/http/http.transport';
import {
  createEmbeddedTransport,
  EmbeddedTransport,
} from '../transport/embedded/embedded.transport';
import { createPostgresEngine } from '../postgres/postgres-engine';
import { redactConnectionString } from '../postgres/connection-string';
import { PostgresOptionMessages } from '../postgres/postgres-options.messages';
import type { ProvenanceClientDeps, ResolvedClientOptions } from './provenance-client.options';
import { engineLogOf } from './policy-control';

/**
 * The transport resolved options ask for: a remote gateway when `gatewayUrl`
 * is set, else the engine, with its state in PostgreSQL when `postgres` is set
 * (closing the transport closes the engine, its stores and the pool it made).
 */
export function createTransport(
  options: ResolvedClientOptions,
  deps: ProvenanceClientDeps,
  /** The policy already compiled from `options.policy` (the client does it once), if it was. */
  compiled: CompiledPolicy | null = null,
): GatewayTransport {
  if (options.mode === 'http') {
    return new HttpTransport({
      gatewayUrl: options.gatewayUrl as string,
      apiKey: options.apiKey as string,
      timeout: options.timeout,
      asyncEscalation: options.asyncEscalation,
      httpService: deps.httpService,
      httpClient: options.httpClient,
    });
  }
  const engineSetup = {
    policy: compiled ?? (options.policy as NonNullable<ResolvedClientOptions['policy']>),
    escalationTimeoutMs: options.escalationTimeout,
    maxPendingEscalations: options.maxPendingEscalations,
    tenantId: options.tenantId,
    allowEmptyPolicy: options.allowEmptyPolicy,
    watchPolicy: options.watchPolicy,
    shadowPolicy: options.shadowPolicy,
    log: engineLogOf(options.logger),
  };
  if (options.postgres !== null) {
    const postgres = options.postgres;
    const built = createPostgresEngine({
      ...engineSetup,
      postgres,
      // Started at once rather than on the first call: other replicas' holds are then known
      // here, this replica sweeps expired ones, and a database that is away is said now.
      onStartFailed: (error) =>
        console.warn(
          PostgresOptionMessages.startFailed(
            postgres.pool !== undefined
              ? 'a pg.Pool of the application'
              : redactConnectionString(postgres.connectionString ?? ''),
            error instanceof Error ? error.message : String(error),
          ),
        ),
    });
    return new EmbeddedTransport(built.engine, built.audit);
  }
  const { store, path, durable, signingKey } = options.audit;
  return createEmbeddedTransport({
    ...engineSetup,
    audit: store === 'file' ? { store, path, durable, signingKey } : { store, signingKey },
  });
}
