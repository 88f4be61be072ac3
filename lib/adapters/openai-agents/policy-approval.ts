import type { FunctionTool } from '@openai/agents';
import type { ExecutionResult } from '../../protocol/execution-result';
import { askDeferred, type DeferredTool } from '../tool-gate/deferred-tool-call';
import { toolCallInput } from './tool-call-input';

/**
 * `needsApproval` answered by the policy (deferred approvals): the call, its
 * parsed input only, is put to `gateway.executeDeferred` once per call id.
 * ALLOW and refusals answer false (the tool's invoke then runs it under that
 * ALLOW, or answers the model with the refusal); ESCALATE answers true, and
 * the run stops with an interruption while the gateway keeps the escalation
 * pending for a reviewer (on any replica). The SDK does not ask again for a
 * call its state already approved or rejected.
 */
export function policyApproval(tool: DeferredTool): FunctionTool['needsApproval'] {
  return async function policyNeedsApproval(
    _runContext: unknown,
    input: unknown,
    callId?: string,
  ): Promise<boolean> {
    // Without a call id the call cannot be matched when the run resumes: the invoke holds it instead.
    if (typeof callId !== 'string' || callId === '') return false;
    let result: ExecutionResult;
    try {
      result = await askDeferred(tool, toolCallInput(input), callId).answer;
    } catch {
      return false;
    }
    return result.escalated;
  };
}
