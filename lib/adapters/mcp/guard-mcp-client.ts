import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ExecutionResult } from '../../protocol/execution-result';
import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { decideToolCall } from '../tool-gate';
import type { McpGuardOptions } from './mcp-guard.options';
import { heldProgress } from './mcp-held-progress';
import { McpMessages } from './mcp.messages';
import { TOOLS_CALL, toolCallOf } from './mcp-tool-call';
import { refusalResult, withDecision } from './mcp-tool-result';

/** `Protocol.request` as the client has it: the request, its result schema, its options. */
type RequestMethod = (
  request: { method: string; params?: unknown },
  resultSchema: unknown,
  requestOptions?: { signal?: AbortSignal; onprogress?: (progress: Progress) => void },
) => Promise<unknown>;

const GUARDED = Symbol.for('nestjs-provenance.mcp.guarded');

/**
 * Gates the tool calls an MCP client makes: each `tools/call` (from
 * `callTool`, `request` or the experimental streaming calls) is decided by the
 * gateway before it is sent, on the arguments as the caller gave them.
 * Returns the client it was given.
 *
 * - ALLOW: the request is sent; the result carries the decision in
 *   `_meta['nestjs-provenance/decision']`.
 * - BLOCK: nothing is sent; the caller receives the SDK's native error
 *   result, `{ content: [{ type: 'text', text: reason }], isError: true }`
 *   (`onBlock: 'throw'`: the library's error, e.g. `PolicyBlockedError`).
 * - ESCALATE: held until a human decides (`onprogress`, if given, hears so
 *   once, with the escalation id); the request's `signal` withdraws it (the
 *   call then rejects with the signal's reason, as the SDK does).
 */
export function guardMcpClient<C extends Client<any, any, any>>(
  gateway: ProvenanceGateway,
  client: C,
  options: McpGuardOptions = {},
): C {
  const send = (client as { request?: unknown }).request;
  if (typeof send !== 'function') {
    throw new ProvenanceConfigError('client', McpMessages.notAClient());
  }
  if (Object.hasOwn(client, GUARDED)) {
    throw new ProvenanceConfigError('client', McpMessages.alreadyGuarded('client'));
  }
  const original = send as RequestMethod;
  const request: RequestMethod = (req, resultSchema, requestOptions) => {
    const forward = () => original.call(client, req, resultSchema, requestOptions);
    if (req?.method !== TOOLS_CALL) return forward();
    return gatedRequest(gateway, req.params, requestOptions ?? {}, options, forward);
  };
  Object.defineProperty(client, 'request', { configurable: true, writable: true, value: request });
  Object.defineProperty(client, GUARDED, { value: true });
  return client;
}

async function gatedRequest(
  gateway: ProvenanceGateway,
  params: unknown,
  requestOptions: NonNullable<Parameters<RequestMethod>[2]>,
  options: McpGuardOptions,
  forward: () => Promise<unknown>,
): Promise<unknown> {
  const call = toolCallOf(params);
  const toolCallId = options.idempotencyKey?.(call);
  const { signal, onprogress } = requestOptions;
  const onEscalated = (interim: ExecutionResult) => onprogress?.(heldProgress(interim));
  const verdict = await decideToolCall(
    gateway,
    { toolName: call.name, input: call.arguments, toolCallId, signal, onEscalated },
    options,
  );
  if (!verdict.allowed) return refusalResult(verdict.refusal, verdict.error);
  return withDecision(await forward(), verdict);
}
