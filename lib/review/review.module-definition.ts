import { ConfigurableModuleBuilder } from '@nestjs/common';
import { PROVENANCE_REVIEW_MODULE_OPTIONS } from './review.constants';
import type { ProvenanceReviewAuthOptions } from './review-module.options';
import { mountReviewRoutes } from './review.controllers';

/**
 * `forRoot({ path, authorize })` / `forRootAsync({ path, useFactory, inject, imports })`.
 * `path` is an extra: the routes need it when the module is defined, before
 * any factory runs; the options token holds `{ authorize }` only.
 */
export const {
  ConfigurableModuleClass: ProvenanceReviewConfigurableModule,
  OPTIONS_TYPE: PROVENANCE_REVIEW_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: PROVENANCE_REVIEW_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ProvenanceReviewAuthOptions>({
  moduleName: 'ProvenanceReview',
  optionsInjectionToken: PROVENANCE_REVIEW_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<{ path?: string }>({ path: undefined }, (definition, extras) => ({
    ...definition,
    controllers: mountReviewRoutes(extras.path),
  }))
  .build();
