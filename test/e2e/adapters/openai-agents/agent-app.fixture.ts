import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  Agent,
  setTracingDisabled,
  tool,
  type RunState,
  type RunToolApprovalItem,
} from '@openai/agents';
import { filter, firstValueFrom, map } from 'rxjs';
import { z } from 'zod';
import {
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type EscalationRecord,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../../lib';
import {
  approveAgentToolCall,
  guardAgentTools,
  rejectAgentToolCall,
  currentToolDecision,
  toolDecisionOf,
  type AgentToolGateOptions,
} from '../../../../lib/adapters/openai-agents';
import { ScriptedAgentModel, type ScriptStep } from './scripted-model';

// The SDK would export traces to OpenAI: no network in these tests.
setTracingDisabled(true);

export const policy: PolicyDocument = {
  name: 'openai-agents-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'large payments need a human',
    },
    { action: 'email.*', on_match: 'ALLOW' },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

/** In the agent's instructions and run context: must never reach the audit log. */
export const INSTRUCTIONS_MARKER = 'instructions-marker-7f3a';
export const CONTEXT_SECRET = 'run-context-secret-91bd';

export interface ToolRun {
  tool: string;
  input: unknown;
  approvedBy: string | null;
}

/** The app's agent: its tools are the app's own, gated by the injected gateway. */
@Injectable()
export class PaymentsAgent {
  /** Every tool body that ran, in order. */
  readonly runs: ToolRun[] = [];

  constructor(
    readonly gateway: ProvenanceGateway,
    readonly reviewer: ProvenanceReviewer,
  ) {}

  /** The app's approval endpoint: the approver is the authenticated user, never the agent. */
  approve(state: RunState<any, any>, interruption: RunToolApprovalItem, user: { id: string }) {
    return approveAgentToolCall(this.reviewer, state, interruption, {
      approverId: user.id,
      reason: `approved in the app by ${user.id}`,
    });
  }

  reject(state: RunState<any, any>, interruption: RunToolApprovalItem, user: { id: string }) {
    return rejectAgentToolCall(this.reviewer, state, interruption, {
      approverId: user.id,
      reason: 'not this month',
    });
  }

  tools() {
    const payments = tool({
      name: 'payments_initiate',
      description: 'Send a payment',
      parameters: z.object({ amount: z.number(), currency: z.string() }),
      execute: (input, _context, details) => {
        const decision = toolDecisionOf(details);
        // The adapter-independent way reads the same ALLOW (a tool error otherwise: the test fails).
        if (decision === undefined || currentToolDecision() !== decision) {
          throw new Error('currentToolDecision() is not the ALLOW toolDecisionOf() names');
        }
        const approvedBy = decision.actorHumanId ?? null;
        this.runs.push({ tool: 'payments_initiate', input, approvedBy });
        return { paid: input.amount, currency: input.currency, approvedBy };
      },
    });
    const deletion = tool({
      name: 'data_delete',
      description: 'Delete a table',
      parameters: z.object({ table: z.string() }),
      execute: (input) => {
        this.runs.push({ tool: 'data_delete', input, approvedBy: null });
        return { deleted: input.table };
      },
    });
    return [payments, deletion];
  }

  agent(model: ScriptedAgentModel, options: AgentToolGateOptions = {}): Agent<{ secret: string }> {
    return new Agent<{ secret: string }>({
      name: 'payments-agent',
      instructions: `You move money. ${INSTRUCTIONS_MARKER}`,
      model,
      tools: guardAgentTools(this.gateway, this.tools(), {
        actions: { payments_initiate: 'payments.initiate', data_delete: 'data.delete' },
        ...options,
      }),
    });
  }

  model(steps: ScriptStep[]): ScriptedAgentModel {
    return new ScriptedAgentModel(steps);
  }
}

export async function bootAgentApp(
  options: Partial<ProvenanceModuleOptions> = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-openai',
        policy,
        audit: { store: 'memory' },
        escalationTimeout: 10_000,
        ...options,
      } as ProvenanceModuleOptions),
    ],
    providers: [PaymentsAgent],
  })
  class AgentAppModule {}
  return NestFactory.createApplicationContext(AgentAppModule, {
    logger: false,
    abortOnError: false,
  });
}

/** The first pending escalation of `action`, as the reviewer sees it (pushed, not polled). */
export function nextPending(
  reviewer: ProvenanceReviewer,
  action: string,
): Promise<EscalationRecord> {
  return firstValueFrom(
    reviewer.pending$.pipe(
      map((records) => records.find((record) => record.action === action)),
      filter((record): record is EscalationRecord => record !== undefined),
    ),
  );
}
