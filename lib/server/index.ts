// The gateway server's public surface; lib/index.ts re-exports it.
export { ProvenanceGatewayServerModule } from './gateway-server.module';
export { GATEWAY_SERVER_OPTIONS } from './gateway-server.module-definition';
export { createGatewayServer, type CreateGatewayServerOptions } from './gateway-server.factory';
export {
  ApiKeyRing,
  apiKeyDigest,
  apiKeyPrefix,
  generateApiKey,
  type ApiKeyScope,
} from './gateway-server.api-keys';
export { GatewayServerTenants } from './gateway-server.tenants';
export type {
  GatewayServerApiKey,
  GatewayServerAuditOptions,
  ProvenanceGatewayServerOptions,
} from './gateway-server.options';
export { startStandaloneGateway, DENY_BY_DEFAULT_POLICY } from './main';
