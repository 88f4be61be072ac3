import { Module, type DynamicModule } from '@nestjs/common';
import { ProvenanceModule, type ProvenanceModuleOptions } from '../lib';
import { AgentController } from './agent/agent.controller';
import { AgentRunner } from './agent/agent.runner';
import { AuditController } from './audit/audit.controller';
import { EscalationsController } from './review/escalations.controller';
import { ReviewPageController } from './review/review-page.controller';
import { ToolsModule } from './tools/tools.module';

/**
 * The sample agent backend. `register()` rather than a static module so that
 * tests and the demo can boot several copies with their own gateways.
 */
@Module({})
export class AppModule {
  static register(provenance: ProvenanceModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [ProvenanceModule.forRoot({ ...provenance, isGlobal: true }), ToolsModule],
      controllers: [AgentController, EscalationsController, ReviewPageController, AuditController],
      providers: [AgentRunner],
    };
  }
}
