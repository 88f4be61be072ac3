import { Module, type DynamicModule } from '@nestjs/common';
import { ProvenanceModule, ProvenanceReviewModule, type ProvenanceModuleOptions } from '../lib';
import { AgentController } from './agent/agent.controller';
import { AgentRunner } from './agent/agent.runner';
import { ChatAgent } from './agent/chat.agent';
import { ChatTools } from './agent/chat-tools';
import { AuditController } from './audit/audit.controller';
import { reviewerTokenAuthorizer, type ReviewerTokens } from './review/reviewer-tokens';
import { ToolsModule } from './tools/tools.module';

/**
 * The sample agent backend. `register()` rather than a static module so that
 * tests and the demo can boot several copies with their own gateways.
 * The review page and its API (/review, /review/escalations/...) are the
 * library's ProvenanceReviewModule, open to the reviewers' tokens only.
 */
@Module({})
export class AppModule {
  static register(provenance: ProvenanceModuleOptions, reviewers: ReviewerTokens): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ProvenanceModule.forRoot({ ...provenance, isGlobal: true }),
        ProvenanceReviewModule.forRoot({
          path: 'review',
          authorize: reviewerTokenAuthorizer(reviewers),
        }),
        ToolsModule,
      ],
      controllers: [AgentController, AuditController],
      providers: [AgentRunner, ChatAgent, ChatTools],
    };
  }
}
