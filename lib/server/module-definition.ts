import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ProvenanceGatewayServerOptions } from './options';

export const {
  ConfigurableModuleClass: GatewayServerConfigurableModule,
  MODULE_OPTIONS_TOKEN: GATEWAY_SERVER_OPTIONS,
  OPTIONS_TYPE: GATEWAY_SERVER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GATEWAY_SERVER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ProvenanceGatewayServerOptions>({
  moduleName: 'ProvenanceGatewayServer',
})
  .setClassMethodName('forRoot')
  .build();
