import { Decision } from '../../protocol/decision';
import { ExecutionResult } from '../../protocol/execution-result';
import {
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../protocol/provenance.errors';
import { AdapterMessages } from './adapter.messages';
import { deferredFor, forgetDeferred, inputTextOf, type DeferredTool } from './deferred-tool-call';
import { decideToolCall, refusalOf, type ToolVerdict } from './tool-gate';

/** The call a deferred tool is about to run: its input, id and abort signal. */
export interface DeferredRun {
  input: unknown;
  toolCallId?: string;
  signal?: AbortSignal;
}

/**
 * What a deferred tool's body runs under: the ALLOW its ask got for this
 * very call (a refusal it got is the verdict); otherwise (a resumed run,
 * another replica, an escalated ask) the identical call through `execute$`,
 * never held: an approval recorded for it is a grant (the ALLOW names the
 * approver), and a new escalation is withdrawn at once and refused.
 * With `onBlock: 'throw'` a refusal rejects, as `decideToolCall` does.
 */
export async function deferredVerdict(tool: DeferredTool, run: DeferredRun): Promise<ToolVerdict> {
  const { gateway, toolName, action } = tool;
  const call = deferredFor(gateway, run.toolCallId, toolName, inputTextOf(run.input));
  if (call !== undefined) {
    forgetDeferred(call);
    let result: ExecutionResult;
    try {
      result = await call.answer;
    } catch (error) {
      return refused(tool, error);
    }
    if (result.allowed) return { allowed: true, action, result };
    if (!result.escalated) return refused(tool, new PolicyBlockedError(result));
  }
  return resumedVerdict(tool, run);
}

/** The identical call through `execute$`: ALLOW (a grant), a refusal, or an escalation withdrawn at once. */
function resumedVerdict(tool: DeferredTool, run: DeferredRun): Promise<ToolVerdict> {
  const withdraw = new AbortController();
  const own = run.signal;
  const signal = own === undefined ? withdraw.signal : AbortSignal.any([own, withdraw.signal]);
  const notApproved = (interim: ExecutionResult) => withdraw.abort(notApprovedError(tool, interim));
  return decideToolCall(
    tool.gateway,
    {
      toolName: tool.toolName,
      input: run.input,
      toolCallId: run.toolCallId,
      signal,
      // Never held here: aborting unsubscribes, which withdraws the new escalation.
      onEscalated: (interim) => queueMicrotask(() => notApproved(interim)),
    },
    tool.options,
  ).catch((error: unknown) => {
    // The run's own abort stays the run's; the withdrawn escalation is a refusal.
    if (own?.aborted === true || withdraw.signal.reason !== error) throw error;
    return refused(tool, error);
  });
}

function notApprovedError(tool: DeferredTool, interim: ExecutionResult): PolicyBlockedError {
  const result = new ExecutionResult({
    decision: Decision.BLOCK,
    reason: AdapterMessages.notApproved(),
    action: tool.action,
    eventId: interim.eventId,
    sessionId: interim.sessionId,
    escalationId: interim.escalationId,
  });
  return new PolicyBlockedError(result);
}

/** A refusal as a verdict; with `onBlock: 'throw'` (or an error that is not a refusal) it rejects. */
function refused(tool: DeferredTool, error: unknown): ToolVerdict {
  if (tool.options.onBlock === 'throw' || !(error instanceof ProvenanceError)) throw error;
  if (error instanceof ProvenanceConfigError) throw error;
  return { allowed: false, action: tool.action, refusal: refusalOf(tool.action, error), error };
}
