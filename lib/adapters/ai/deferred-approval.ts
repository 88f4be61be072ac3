import type { ToolExecutionOptions } from 'ai';
import { Decision } from '../../protocol/decision';
import { ExecutionResult } from '../../protocol/execution-result';
import { PolicyBlockedError, ProvenanceConfigError } from '../../protocol/provenance.errors';
import { decideToolCall, toolParameters, type ToolVerdict } from '../tool-gate/tool-gate';
import { AiAdapterMessages } from './ai.messages';
import type { ToolApprovals } from './ai-tools.options';
import {
  DeferredCall,
  deferredFor,
  forgetDeferred,
  inputTextOf,
  rememberDeferred,
} from './deferred-calls';
import type { GatedTool } from './gated-tool';
import { approvedInMessages } from './tool-approval-responses';

/** What the AI SDK hands a tool's `needsApproval` second. */
export interface ApprovalOptions {
  toolCallId: string;
  messages: unknown[];
  experimental_context?: unknown;
}

/** A tool's own `needsApproval`, as the SDK takes it. */
export type NeedsApproval =
  boolean | ((input: any, options: ApprovalOptions) => boolean | PromiseLike<boolean>);

/** The tools gated with `approvals: 'deferred'`, for `recordToolApprovals` on another replica. */
const deferredTools = new WeakMap<object, GatedTool>();

/** @internal The gated tool `tool` is, when it was gated with deferred approvals. */
export function deferredToolOf(tool: unknown): GatedTool | undefined {
  return typeof tool === 'object' && tool !== null ? deferredTools.get(tool) : undefined;
}

/** @internal `tool` (the gated copy) is `gated`, with deferred approvals. */
export function rememberDeferredTool(tool: object, gated: GatedTool): void {
  deferredTools.set(tool, gated);
}

/** The `approvals` option, checked: 'held' unless it says 'deferred'. */
export function approvalsOf(value: unknown): ToolApprovals {
  if (value === undefined || value === 'held') return 'held';
  if (value === 'deferred') return 'deferred';
  throw new ProvenanceConfigError('approvals', AiAdapterMessages.badApprovals(value));
}

/**
 * A gated tool's `needsApproval` (deferred approvals): the call, its input
 * only, is put to `gateway.executeDeferred` once per tool-call id. ESCALATE
 * answers true (the SDK emits its `tool-approval-request`; the gateway keeps
 * the escalation pending); a refusal or a gateway failure answers false (the
 * tool's execute answers the model with the refusal); ALLOW asks the tool's
 * own `needsApproval`, if any. A call the messages already approve (the SDK
 * asks again when it resumes) answers true: its execute decides it.
 */
export function policyNeedsApproval(gated: GatedTool, own: NeedsApproval | undefined) {
  return async function needsApproval(input: unknown, options: ApprovalOptions): Promise<boolean> {
    if (approvedInMessages(options?.messages, options?.toolCallId)) return true;
    let result: ExecutionResult;
    try {
      result = await deferredCallOf(gated, input, options?.toolCallId).answer;
    } catch {
      return false;
    }
    if (result.escalated) return true;
    if (!result.allowed || own === undefined) return false;
    return typeof own === 'boolean' ? own : (await own(input, options)) === true;
  };
}

/**
 * What a deferred tool's execute runs under: the ALLOW its `needsApproval`
 * got for this very call; otherwise (a resumed request, another replica)
 * the identical call through `execute$`, never held: an approval recorded
 * for it is a grant, and an escalation is withdrawn at once and refused.
 */
export async function deferredVerdict(
  gated: GatedTool,
  input: unknown,
  options: ToolExecutionOptions | undefined,
): Promise<ToolVerdict> {
  const toolCallId = options?.toolCallId;
  const call = deferredFor(gated.gateway, toolCallId, gated.toolName, inputTextOf(input));
  if (call !== undefined) {
    forgetDeferred(call);
    const result = await call.answer;
    if (result.allowed) return { allowed: true, action: gated.action, result };
    if (!result.escalated) throw new PolicyBlockedError(result);
  }
  return resumedVerdict(gated, input, options);
}

function deferredCallOf(gated: GatedTool, input: unknown, toolCallId: string): DeferredCall {
  const { gateway, toolName, action } = gated;
  const inputText = inputTextOf(input);
  const known = deferredFor(gateway, toolCallId, toolName, inputText);
  if (known !== undefined) return known;
  let answer: Promise<ExecutionResult>;
  try {
    const parameters = toolParameters({ toolName, input }, gated.options);
    answer = gateway.executeDeferred(action, parameters, { sessionId: gated.options.sessionId });
  } catch (error) {
    answer = Promise.reject(error);
  }
  const call = new DeferredCall(gateway, toolName, toolCallId, inputText, answer);
  if (typeof toolCallId === 'string' && toolCallId !== '') rememberDeferred(call);
  return call;
}

/** The identical call through `execute$`: ALLOW (a grant), a refusal, or an escalation withdrawn at once. */
function resumedVerdict(
  gated: GatedTool,
  input: unknown,
  options: ToolExecutionOptions | undefined,
): Promise<ToolVerdict> {
  const withdraw = new AbortController();
  const own = options?.abortSignal;
  const signal = own === undefined ? withdraw.signal : AbortSignal.any([own, withdraw.signal]);
  return decideToolCall(
    gated.gateway,
    {
      toolName: gated.toolName,
      input,
      toolCallId: options?.toolCallId,
      signal,
      // Never held here: aborting unsubscribes, which withdraws the new escalation.
      onEscalated: (interim) => queueMicrotask(() => withdraw.abort(notApproved(gated, interim))),
    },
    gated.options,
  );
}

function notApproved(gated: GatedTool, interim: ExecutionResult): PolicyBlockedError {
  const reason = AiAdapterMessages.notApproved();
  const result = new ExecutionResult({
    decision: Decision.BLOCK,
    reason,
    action: gated.action,
    eventId: interim.eventId,
    sessionId: interim.sessionId,
    escalationId: interim.escalationId,
  });
  return new PolicyBlockedError(result);
}
