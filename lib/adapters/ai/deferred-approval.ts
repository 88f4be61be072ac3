import type { ToolExecutionOptions } from 'ai';
import type { ExecutionResult } from '../../protocol/execution-result';
import { askDeferred } from '../tool-gate/deferred-tool-call';
import { deferredVerdict } from '../tool-gate/deferred-verdict';
import type { ToolVerdict } from '../tool-gate/tool-gate';
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
      result = await askDeferred(gated, input, options?.toolCallId).answer;
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
export function deferredToolVerdict(
  gated: GatedTool,
  input: unknown,
  options: ToolExecutionOptions | undefined,
): Promise<ToolVerdict> {
  return deferredVerdict(gated, {
    input,
    toolCallId: options?.toolCallId,
    signal: options?.abortSignal,
  });
}
