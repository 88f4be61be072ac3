import { HttpModule, HttpService } from '@nestjs/axios';
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { ProvenanceReviewer } from '../escalation/provenance.reviewer';
import { ProvenanceClient } from '../gateway/provenance.client';
import { ProvenanceGateway } from '../gateway/provenance.gateway';
import { GuardedExplorer } from '../guarded/guarded.explorer';
import { ProvenanceSessionInterceptor } from './provenance-session.interceptor';
import { clientOptionsOf, type ProvenanceModuleOptions } from './provenance-module.options';
import {
  PROVENANCE_ASYNC_OPTIONS_TYPE,
  PROVENANCE_MODULE_OPTIONS,
  PROVENANCE_OPTIONS_TYPE,
  ProvenanceConfigurableModule,
} from './provenance.module-definition';

/**
 * `ProvenanceModule.forRoot({ agentId, policy })` for the embedded gateway,
 * `forRoot({ gatewayUrl, agentId, apiKey })` for a remote one, or
 * `forRootAsync({ useFactory, inject, imports })`. Missing options fall back
 * to PROVENANCE_* environment variables; invalid ones fail at start-up.
 */
@Module({
  imports: [HttpModule, DiscoveryModule],
  providers: [
    {
      provide: ProvenanceClient,
      inject: [PROVENANCE_MODULE_OPTIONS, HttpService],
      // The module's own keys (sessionHeader, reviewer, isGlobal) stay here.
      useFactory: (options: ProvenanceModuleOptions | undefined, httpService: HttpService) =>
        new ProvenanceClient(clientOptionsOf(options), { httpService }),
    },
    {
      provide: ProvenanceGateway,
      inject: [ProvenanceClient],
      useFactory: (client: ProvenanceClient) => new ProvenanceGateway(client),
    },
    {
      provide: ProvenanceReviewer,
      inject: [ProvenanceGateway, PROVENANCE_MODULE_OPTIONS],
      useFactory: (gateway: ProvenanceGateway, options: ProvenanceModuleOptions | undefined) =>
        new ProvenanceReviewer(gateway, options?.reviewer),
    },
    // Binds this app's @Guarded instances to this app's gateway.
    GuardedExplorer,
    // One session per HTTP request. Always registered (forRootAsync options are
    // only known at run time); `sessionHeader: false` makes it pass through.
    {
      provide: APP_INTERCEPTOR,
      inject: [ProvenanceGateway, PROVENANCE_MODULE_OPTIONS, HttpAdapterHost],
      useFactory: (
        gateway: ProvenanceGateway,
        options: ProvenanceModuleOptions | undefined,
        adapterHost: HttpAdapterHost,
      ) =>
        new ProvenanceSessionInterceptor(
          gateway,
          { sessionHeader: options?.sessionHeader },
          adapterHost,
        ),
    },
  ],
  exports: [ProvenanceGateway, ProvenanceClient, ProvenanceReviewer, PROVENANCE_MODULE_OPTIONS],
})
export class ProvenanceModule
  extends ProvenanceConfigurableModule
  implements OnApplicationShutdown
{
  constructor(private readonly gateway: ProvenanceGateway) {
    super();
  }

  static override forRoot(options: typeof PROVENANCE_OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof PROVENANCE_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  async onApplicationShutdown(): Promise<void> {
    // A test double given with overrideProvider(ProvenanceGateway) may have no close().
    if (typeof this.gateway.close === 'function') await this.gateway.close();
  }
}
