import { Inject, Module, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ApiKeyRing, serverKeys } from './api-keys';
import { ApiKeyGuard } from './auth.guard';
import { GatewayAuditController } from './audit.controller';
import { GatewayEscalationsController } from './escalations.controller';
import { WireExceptionFilter } from './exception-filter';
import { GatewayExecuteController } from './execute.controller';
import { GatewayGrantsController } from './grants.controller';
import { GatewayHealthController } from './health.controller';
import { GatewayWithdrawController } from './withdraw.controller';
import { GatewayDetachController } from './detach.controller';
import {
  GATEWAY_SERVER_ASYNC_OPTIONS_TYPE,
  GATEWAY_SERVER_OPTIONS,
  GATEWAY_SERVER_OPTIONS_TYPE,
  GatewayServerConfigurableModule,
} from './module-definition';
import type { ProvenanceGatewayServerOptions } from './options';
import { validateServerOptions } from './options-validator';
import { WireReply } from './reply';
import { GatewayServerTenants } from './tenants';

/**
 * Serves the Provenance wire protocol (docs/protocol.md) from embedded gateways,
 * one per tenant, so that the Python `provenance-client`, the reference
 * TypeScript client, this package's HTTP transport or plain `curl` can use it:
 * `POST /v1/gateway/execute`, `GET /v1/escalations/pending`,
 * `GET /v1/escalations/`, `POST /v1/escalations/{id}/decide`,
 * `GET /v1/escalations/{id}/wait`, `POST /v1/escalations/{id}/withdraw` and
 * `/detach`, `GET /v1/audit/{tenant_id}`,
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
    GatewayWithdrawController,
    GatewayDetachController,
    GatewayGrantsController,
    GatewayAuditController,
    GatewayHealthController,
  ],
  providers: [
    {
      provide: ApiKeyRing,
      inject: [GATEWAY_SERVER_OPTIONS],
      useFactory: (options: ProvenanceGatewayServerOptions) => {
        validateServerOptions(options);
        return new ApiKeyRing(serverKeys(options));
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
