import { Inject, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiKeyRing } from './gateway-server.api-keys';
import { ApiKeyGuard } from './gateway-server.auth.guard';
import { GatewayAuditController } from './gateway-server.audit.controller';
import { GatewayEscalationsController } from './gateway-server.escalations.controller';
import { WireExceptionFilter } from './gateway-server.exception-filter';
import { GatewayExecuteController } from './gateway-server.execute.controller';
import { GatewayHealthController } from './gateway-server.health.controller';
import {
  GATEWAY_SERVER_ASYNC_OPTIONS_TYPE,
  GATEWAY_SERVER_OPTIONS,
  GATEWAY_SERVER_OPTIONS_TYPE,
  GatewayServerConfigurableModule,
} from './gateway-server.module-definition';
import type { ProvenanceGatewayServerOptions } from './gateway-server.options';
import { validateServerOptions } from './gateway-server.options-validator';
import { WireReply } from './gateway-server.reply';
import { GatewayServerTenants } from './gateway-server.tenants';

/**
 * Serves the Provenance wire protocol (PROTOCOL.md) from embedded gateways,
 * one per tenant, so that the Python `provenance-client`, the reference
 * TypeScript client, this package's HTTP transport or plain `curl` can use it:
 * `POST /v1/gateway/execute`, `GET /v1/escalations/pending`,
 * `GET /v1/escalations/`, `POST /v1/escalations/{id}/decide`,
 * `GET /v1/escalations/{id}/wait`, `GET /v1/audit/{tenant_id}`,
 * `GET /v1/audit/integrity/{tenant_id}`, `GET /health`.
 *
 * Import it in any Nest app, or start one with `createGatewayServer()`, which
 * also sets up body handling so that a too large or malformed body gets the
 * reference answers (413, 422).
 */
@Module({
  controllers: [
    GatewayExecuteController,
    GatewayEscalationsController,
    GatewayAuditController,
    GatewayHealthController,
  ],
  providers: [
    {
      provide: ApiKeyRing,
      inject: [GATEWAY_SERVER_OPTIONS],
      useFactory: (options: ProvenanceGatewayServerOptions) => {
        validateServerOptions(options);
        return new ApiKeyRing(options.keys);
      },
    },
    {
      provide: GatewayServerTenants,
      // After ApiKeyRing: its factory validated the options.
      inject: [GATEWAY_SERVER_OPTIONS, ApiKeyRing],
      useFactory: (options: ProvenanceGatewayServerOptions) => new GatewayServerTenants(options),
    },
    WireReply,
    WireExceptionFilter,
    ApiKeyGuard,
  ],
  exports: [GatewayServerTenants, GATEWAY_SERVER_OPTIONS],
})
export class ProvenanceGatewayServerModule
  extends GatewayServerConfigurableModule
  implements OnModuleInit, BeforeApplicationShutdown
{
  constructor(@Inject(GatewayServerTenants) private readonly tenants: GatewayServerTenants) {
    super();
  }

  static override forRoot(options: typeof GATEWAY_SERVER_OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof GATEWAY_SERVER_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  async onModuleInit(): Promise<void> {
    await this.tenants.open();
  }

  /**
   * Before the HTTP server stops accepting: every held call ends as expired
   * (blocked, never approved) and is answered, so held requests and long
   * polls do not keep the server from closing.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.tenants.close();
  }
}
