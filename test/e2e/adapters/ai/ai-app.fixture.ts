import 'reflect-metadata';
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { tool } from 'ai';
import { z } from 'zod';
import {
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../../lib';
import {
  currentToolDecision,
  provenanceTools,
  toolDecisionOf,
  type ProvenanceToolsOptions,
} from '../../../../lib/adapters/ai';

export const policy: PolicyDocument = {
  name: 'ai-adapter-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'payments over 500 need a human',
    },
    { action: 'email.send', on_match: 'ALLOW', reason: 'email is fine' },
    { action: 'data.delete', on_match: 'BLOCK', reason: 'agents never delete customer data' },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

export const ACTIONS = {
  payments_initiate: 'payments.initiate',
  email_send: 'email.send',
  data_delete: 'data.delete',
} as const;

/** What the tools' bodies did: a body that never ran left nothing here. */
export interface BodyRun {
  tool: string;
  input: unknown;
  approvedBy: string | null | undefined;
  /** The conversation the SDK handed the tool in its options (JSON), where the body kept it. */
  conversation?: string;
}

/** The app's own tools, as it would write them without this library. */
@Injectable()
export class ShopTools {
  readonly runs: BodyRun[] = [];

  raw() {
    const runs = this.runs;
    return {
      payments_initiate: tool({
        description: 'Pay a recipient',
        inputSchema: z.object({ amount: z.number(), currency: z.string(), recipient: z.string() }),
        execute: async (input, options) => {
          const decision = toolDecisionOf(options);
          // The adapter-independent way reads the same ALLOW (a tool error otherwise: the test fails).
          if (decision === undefined || currentToolDecision() !== decision) {
            throw new Error('currentToolDecision() is not the ALLOW toolDecisionOf() names');
          }
          const approvedBy = decision.actorHumanId;
          const conversation = JSON.stringify(options.messages);
          runs.push({ tool: 'payments_initiate', input, approvedBy, conversation });
          return { paid: input.amount, currency: input.currency, approvedBy: approvedBy ?? null };
        },
      }),
      email_send: tool({
        description: 'Send an e-mail, reporting progress',
        inputSchema: z.object({ subject: z.string(), to: z.string() }),
        // Preliminary results: an async generator stays one through the gate.
        execute: async function* (input) {
          runs.push({ tool: 'email_send', input, approvedBy: undefined });
          yield { status: 'queued' as const, to: input.to };
          yield { status: 'sent' as const, to: input.to };
        },
      }),
      data_delete: tool({
        description: 'Delete a table',
        inputSchema: z.object({ table: z.string() }),
        execute: async (input) => {
          runs.push({ tool: 'data_delete', input, approvedBy: undefined });
          return { deleted: input.table };
        },
      }),
    };
  }
}
/** The agent service of the app: the gateway is injected, the tools are gated with it. */
@Injectable()
export class AgentService {
  constructor(
    @Inject(ProvenanceGateway) readonly gateway: ProvenanceGateway,
    @Inject(ShopTools) readonly shop: ShopTools,
  ) {}

  tools(options: ProvenanceToolsOptions = {}) {
    return provenanceTools(this.gateway, this.shop.raw(), { actions: ACTIONS, ...options });
  }
}

export interface AiApp {
  app: INestApplicationContext;
  gateway: ProvenanceGateway;
  reviewer: ProvenanceReviewer;
  agent: AgentService;
  runs: BodyRun[];
}

export async function bootAiApp(options: Partial<ProvenanceModuleOptions> = {}): Promise<AiApp> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-ai-e2e',
        policy,
        audit: { store: 'memory' },
        escalationTimeout: 10_000,
        ...options,
      } as ProvenanceModuleOptions),
    ],
    providers: [ShopTools, AgentService],
  })
  class AiAppModule {}
  const app = await NestFactory.createApplicationContext(AiAppModule, {
    logger: false,
    abortOnError: false,
  });
  const agent = app.get(AgentService);
  return {
    app,
    gateway: app.get(ProvenanceGateway),
    reviewer: app.get(ProvenanceReviewer),
    agent,
    runs: agent.shop.runs,
  };
}
