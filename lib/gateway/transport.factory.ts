import type { GatewayTransport } from '../transport/gateway-transport';
import { HttpTransport } from '../transport/http/http.transport';
import { createEmbeddedTransport } from '../transport/embedded/embedded.transport';
import type { ProvenanceClientDeps, ResolvedClientOptions } from './provenance-client.options';

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
  return createEmbeddedTransport(options);
}
