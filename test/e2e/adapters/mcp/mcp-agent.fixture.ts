// A Nest app with the embedded gateway, an MCP client and server linked by the
// SDK's in-memory transport, and a scripted "model" driving the client the way
// an agent loop does: each turn sees the conversation so far and either calls
// a tool or answers.
import 'reflect-metadata';
import { Module, type INestApplicationContext, type Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { firstValueFrom, filter } from 'rxjs';
import {
  ProvenanceModule,
  type EscalationEvent,
  type EscalationEventType,
  type EscalationRecord,
  type PolicyDocument,
  type ProvenanceGateway,
  type ProvenanceModuleOptions,
  type ProvenanceReviewer,
} from '../../../../lib';

// The reasons are written here, not read from the code under test.
export const BIG_PAYMENT_REASON = 'payments over 500 need a human';
export const DELETE_REASON = 'deleting customer data is never done by an agent';

export const policy: PolicyDocument = {
  name: 'mcp-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: BIG_PAYMENT_REASON,
    },
    { action: 'data.delete', on_match: 'BLOCK', reason: DELETE_REASON },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

/** MCP tool names cannot be the policy's dotted actions here: the usual mapping. */
export const actions = { payments_initiate: 'payments.initiate', data_delete: 'data.delete' };

export async function bootApp(
  providers: Provider[] = [],
  options: Partial<ProvenanceModuleOptions> = {},
): Promise<INestApplicationContext> {
  @Module({
    imports: [
      ProvenanceModule.forRoot({
        agentId: 'mcp-agent',
        policy,
        audit: { store: 'memory' },
        escalationTimeout: 10_000,
        ...options,
      }),
    ],
    providers,
    exports: providers.map((p) => ('provide' in p ? p.provide : p)),
  })
  class AppModule {}
  return NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
}

/** Something with the SDK's `connect(transport)`: an McpServer or a low-level Server. */
interface Connectable {
  connect(transport: InMemoryTransport): Promise<void>;
}

/** The client and server connected in memory, and every message the server received. */
export interface Linked {
  client: Client;
  /** What reached the server's side of the transport, in order. */
  received: JSONRPCMessage[];
  close(): Promise<void>;
}

export async function link(server: Connectable, client?: Client): Promise<Linked> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const received: JSONRPCMessage[] = [];
  const deliver = serverSide.onmessage;
  serverSide.onmessage = (message, extra) => {
    received.push(message);
    deliver?.(message, extra);
  };
  const c = client ?? new Client({ name: 'scripted-agent', version: '1.0.0' });
  await c.connect(clientSide);
  return { client: c, received, close: () => c.close() };
}

/** The tools/call requests among what the server received. */
export function toolCallsReceived(received: JSONRPCMessage[]): unknown[] {
  return received.filter((m) => 'method' in m && m.method === 'tools/call');
}

export type Message =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string }
  | { role: 'tool'; tool: string; text: string; isError: boolean };

/** One model turn: call a tool, or answer and stop. */
export type Turn =
  { call: { name: string; arguments: Record<string, unknown> } } | { answer: string };

/** The scripted model: turn i is computed from what the model sees at turn i. */
export type Script = Array<(seen: readonly Message[]) => Turn>;

export interface AgentRun {
  messages: Message[];
  /** What the model was shown at each turn (copies). */
  seen: Message[][];
}

interface ToolResultLike {
  content?: unknown;
  isError?: unknown;
}

function textOf(result: ToolResultLike): string {
  const content = Array.isArray(result.content) ? result.content : [];
  return content
    .map((c: { type?: string; text?: string }) => (c.type === 'text' ? c.text : ''))
    .join('\n');
}

/**
 * The agent loop: the model's tool calls go to `client.callTool` (with the
 * given request options); each result is appended as a tool message the
 * model reads on its next turn.
 */
export async function runAgent(
  client: Client,
  prompt: string,
  script: Script,
  requestOptions: { signal?: AbortSignal; onprogress?: () => void } = {},
  meta?: Record<string, unknown>,
): Promise<AgentRun> {
  const messages: Message[] = [{ role: 'user', text: prompt }];
  const seen: Message[][] = [];
  for (const step of script) {
    seen.push(structuredClone(messages));
    const turn = step(messages);
    if ('answer' in turn) {
      messages.push({ role: 'assistant', text: turn.answer });
      return { messages, seen };
    }
    const params = meta === undefined ? turn.call : { ...turn.call, _meta: meta };
    const result = (await client.callTool(params, undefined, requestOptions)) as ToolResultLike;
    messages.push({
      role: 'tool',
      tool: turn.call.name,
      text: textOf(result),
      isError: result.isError === true,
    });
  }
  throw new Error('the script ended without an answer');
}

/** The last tool message the model was shown. */
export function lastToolMessage(seen: readonly Message[]): Message & { role: 'tool' } {
  const tool = [...seen].reverse().find((m) => m.role === 'tool');
  if (tool === undefined || tool.role !== 'tool') throw new Error('no tool message yet');
  return tool;
}

/**
 * A promise a test may never await (the call it waits for failed first):
 * marked handled, so that its rejection when the app closes fails that test
 * instead of crashing the run.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Resolves with the next escalation event of this type (subscribe before causing it). */
export function nextEscalation(
  gateway: ProvenanceGateway,
  type: EscalationEventType,
): Promise<EscalationEvent> {
  return handled(firstValueFrom(gateway.escalations$.pipe(filter((e) => e.type === type))));
}

/** The reviewer's desk, in an async context of its own: runs `then` on the first held call it is shown. */
export function whenHeld<T>(
  reviewer: ProvenanceReviewer,
  then: (held: EscalationRecord) => T | Promise<T>,
): Promise<T> {
  const first = firstValueFrom(reviewer.pending$.pipe(filter((list) => list.length > 0)));
  return handled(first.then(([held]) => then(held)));
}
