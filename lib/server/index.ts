// The gateway server's public surface; lib/index.ts re-exports it.
export { ProvenanceGatewayServerModule } from './module';
export { GATEWAY_SERVER_OPTIONS } from './module-definition';
export { createGatewayServer, type CreateGatewayServerOptions } from './factory';
export {
  ApiKeyRing,
  apiKeyDigest,
  apiKeyPrefix,
  generateApiKey,
  type ApiKeyScope,
} from './api-keys';
export { GatewayServerTenants } from './tenants';
export type {
  GatewayServerApiKey,
  GatewayServerAuditOptions,
  ProvenanceGatewayServerOptions,
} from './options';
export { startStandaloneGateway, DENY_BY_DEFAULT_POLICY } from './main';
export {
  RequireRole,
  requireRole,
  type GatewayServerKeyRole,
  type RequireRoleOptions,
} from './roles';
