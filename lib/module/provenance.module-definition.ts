import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ProvenanceModuleOptions } from './provenance-module.options';

export const {
  ConfigurableModuleClass: ProvenanceConfigurableModule,
  MODULE_OPTIONS_TOKEN: PROVENANCE_MODULE_OPTIONS,
  OPTIONS_TYPE: PROVENANCE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PROVENANCE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ProvenanceModuleOptions>({ moduleName: 'Provenance' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
