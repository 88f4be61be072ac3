import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import type { FakeBuiltModel } from '@langchain/core/testing';
import { filter, firstValueFrom } from 'rxjs';
import { z } from 'zod';
import {
  ProvenanceGateway,
  ProvenanceModule,
  ProvenanceReviewer,
  type EscalationEvent,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../../lib';
import type { EscalationRecord } from '../../../../lib/protocol/gateway.types';
import {
  currentToolDecision,
  guardLangChainTools,
  provenanceMiddleware,
  type ToolGateOptions,
} from '../../../../lib/adapters/langchain';

export const policy: PolicyDocument = {
  name: 'langchain-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'large payments need a human',
    },
    { action: 'records.lookup', on_match: 'ALLOW' },
    { action: 'data.delete', on_match: 'BLOCK', reason: 'deleting data is never allowed' },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

/** LLM tool names cannot hold dots. */
export const actions = { payments_initiate: 'payments.initiate', data_delete: 'data.delete' };

export interface BootedApp {
  app: INestApplicationContext;
  gateway: ProvenanceGateway;
  reviewer: ProvenanceReviewer;
}

/** A real Nest app with the embedded gateway and an in-memory audit log. */
export async function boot(options: Partial<ProvenanceModuleOptions> = {}): Promise<BootedApp> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'agent-langchain',
        policy,
        audit: { store: 'memory' },
        escalationTimeout: 10_000,
        ...options,
      }),
    ],
  })
  class AppModule {}
  const app = await NestFactory.createApplicationContext(AppModule, {
    logger: false,
    abortOnError: false,
  });
  return { app, gateway: app.get(ProvenanceGateway), reviewer: app.get(ProvenanceReviewer) };
}

/** What the tools' bodies were called with: a tool that did not run is not here. */
export type Runs = Array<{ tool: string; input: unknown }>;

/** Two tools as an app writes them with `tool()`: their bodies record that they ran. */
export function makeTools(runs: Runs) {
  const pay = tool(
    async (input) => {
      runs.push({ tool: 'payments_initiate', input });
      // The ALLOW this call runs under: a held call's names its approver.
      const approver = currentToolDecision()?.actorHumanId;
      const paid = `paid ${input.amount} ${input.currency} to ${input.recipient}`;
      return approver ? `${paid}, approved by ${approver}` : paid;
    },
    {
      name: 'payments_initiate',
      description: 'Pays a recipient.',
      schema: z.object({ amount: z.number(), currency: z.string(), recipient: z.string() }),
    },
  );
  const del = tool(
    async (input) => {
      runs.push({ tool: 'data_delete', input });
      return `deleted ${input.table}`;
    },
    {
      name: 'data_delete',
      description: 'Deletes a table.',
      schema: z.object({ table: z.string() }),
    },
  );
  return [pay, del] as [typeof pay, typeof del];
}

export type Mode = 'guardLangChainTools' | 'provenanceMiddleware';

/** The same agent, gated by the tool wrapper or by the middleware. */
export function gatedAgent(
  mode: Mode,
  gateway: ProvenanceGateway,
  model: FakeBuiltModel,
  runs: Runs,
  options: ToolGateOptions = { actions },
) {
  const tools = makeTools(runs);
  return mode === 'guardLangChainTools'
    ? createAgent({ model, tools: guardLangChainTools(gateway, tools, options) })
    : createAgent({ model, tools, middleware: [provenanceMiddleware(gateway, options)] });
}

/** The messages the scripted model received on its `index`-th call (0-based). */
export function received(model: FakeBuiltModel, index: number): BaseMessage[] {
  const call = model.calls[index];
  if (call === undefined) throw new Error(`the model was called ${model.callCount} time(s)`);
  return call.messages;
}

/** The first escalation the reviewer sees waiting for `action`. */
export async function nextPending(
  reviewer: ProvenanceReviewer,
  action: string,
): Promise<EscalationRecord> {
  const list = await firstValueFrom(
    reviewer.pending$.pipe(filter((records) => records.some((r) => r.action === action))),
  );
  return list.find((record) => record.action === action) as EscalationRecord;
}

/** The next escalation step of `type` that the gateway announces. */
export function nextEscalationEvent(
  gateway: ProvenanceGateway,
  type: EscalationEvent['type'],
): Promise<EscalationEvent> {
  return firstValueFrom(gateway.escalations$.pipe(filter((event) => event.type === type)));
}
