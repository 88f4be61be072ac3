import type { GatewayTransport } from '../transport/gateway-transport';
import { HttpTransport } from '../transport/http/http.transport';
import { createEmbeddedTransport } from '../transport/embedded/embedded.transport';
import type { ProvenanceClientDeps, ResolvedClientOptions } from './provenance-client.options';

/** The transport resolved options ask for: a remote gateway when `gatewayUrl` is set, else the engine. */
export function createTransport(
  options: ResolvedClientOptions,
  deps: ProvenanceClientDeps,
): GatewayTransport {
  if (options.mode === 'http') {
    return new HttpTransport({
      gatewayUrl: options.gatewayUrl as string,
      apiKey: options.apiKey as string,
      timeout: options.timeout,
      asyncEscalation: options.asyncEscalation,
      httpService: deps.httpService,
    });
  }
  const { store, path, durable, signingKey } = options.audit;
  return createEmbeddedTransport({
    policy: options.policy as NonNullable<ResolvedClientOptions['policy']>,
    audit: store === 'file' ? { store, path, durable, signingKey } : { store, signingKey },
    escalationTimeoutMs: options.escalationTimeout,
    maxPendingEscalations: options.maxPendingEscalations,
    tenantId: options.tenantId,
    allowEmptyPolicy: options.allowEmptyPolicy,
  });
}
