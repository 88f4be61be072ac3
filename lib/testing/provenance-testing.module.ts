import { Module, type DynamicModule } from '@nestjs/common';
import { ProvenanceReviewer } from '../escalation/provenance.reviewer';
import { ProvenanceClient } from '../gateway/provenance.client';
import { ProvenanceModule } from '../module/provenance.module';
import { PROVENANCE_MODULE_OPTIONS } from '../module/provenance.module-definition';
import { clientOptionsOf, type ProvenanceModuleOptions } from '../module/provenance-module.options';
import { ProvenanceTestReviewer } from './provenance-test.reviewer';
import { resolveTestingOptions, type ProvenanceTestingOptions } from './provenance-testing.options';

/**
 * `ProvenanceModule` for an app's own tests:
 * `Test.createTestingModule({ imports: [ProvenanceTestingModule.forRoot({ policy })], providers: [PaymentsService] })`.
 *
 * It is the real ProvenanceModule (the same ProvenanceGateway, ProvenanceClient,
 * ProvenanceReviewer and PROVENANCE_MODULE_OPTIONS, @Guarded binding and
 * per-request sessions), on the embedded engine with an in-memory audit log,
 * a 2 s escalation timeout and no PROVENANCE_* environment variables, plus
 * ProvenanceTestReviewer, the test's human. A module rather than a helper
 * around `Test.createTestingModule()`: it composes with whatever else the
 * test imports or overrides, and needs no @nestjs/testing.
 */
@Module({})
export class ProvenanceTestingModule {
  static forRoot(options: ProvenanceTestingOptions = {}): DynamicModule {
    const resolved = resolveTestingOptions(options);
    const provenance = ProvenanceModule.forRoot({
      ...resolved.module,
      isGlobal: resolved.isGlobal,
    });
    // The module's own client, built without the environment: a PROVENANCE_GATEWAY_URL in the
    // shell never sends a test's calls to a real gateway. (A dynamic module's providers come
    // after its class's, so this one is the ProvenanceClient of that module.)
    provenance.providers = [
      ...(provenance.providers ?? []),
      {
        provide: ProvenanceClient,
        inject: [PROVENANCE_MODULE_OPTIONS],
        useFactory: (moduleOptions: ProvenanceModuleOptions) =>
          new ProvenanceClient(clientOptionsOf(moduleOptions), { env: {} }),
      },
    ];
    return {
      module: ProvenanceTestingModule,
      global: resolved.isGlobal,
      imports: [provenance],
      providers: [
        {
          provide: ProvenanceTestReviewer,
          inject: [ProvenanceReviewer],
          useFactory: (reviewer: ProvenanceReviewer) =>
            new ProvenanceTestReviewer(reviewer, {
              approverId: resolved.approverId,
              autoApprove: resolved.autoApprove,
              waitMs: resolved.module.escalationTimeout as number,
            }),
        },
      ],
      exports: [provenance, ProvenanceTestReviewer],
    };
  }
}
