import type { FunctionTool } from '@openai/agents';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ToolGateOptions } from '../tool-gate';
import { DeferredCall, deferredFor, rememberDeferred } from './deferred-call';
import { toolCallInput } from './tool-call-input';

/**
 * `needsApproval` answered by the policy (deferred approvals): the call is
 * put to the gateway at once. ALLOW and refusals answer false (the tool's
 * invoke then runs it, or answers the model with the refusal); a call the
 * gateway holds for a human answers true, and the run stops with an
 * interruption while the gateway keeps holding it. Asked again for the same
 * call (a resumed run), it answers from that held call: true while it waits.
 */
export function policyApproval(
  gateway: ProvenanceGateway,
  toolName: string,
  options: ToolGateOptions,
): FunctionTool['needsApproval'] {
  return async function policyNeedsApproval(
    _runContext: unknown,
    input: unknown,
    callId?: string,
  ): Promise<boolean> {
    // Without a call id the call cannot be matched when the run resumes: the invoke holds it instead.
    if (typeof callId !== 'string' || callId === '') return false;
    const parsed = toolCallInput(input);
    const inputText = inputTextOf(parsed);
    let call = deferredFor(gateway, callId, toolName, inputText);
    if (call === undefined) {
      call = new DeferredCall(gateway, callId, toolName, inputText, parsed, options);
      rememberDeferred(call);
    }
    return call.settled ? false : call.held;
  };
}

/** The text a deferred call is matched on: its parsed input as JSON. */
export function inputTextOf(parsed: unknown): string {
  return String(JSON.stringify(parsed));
}
