import type { RunState, RunToolApprovalItem } from '@openai/agents';
import type { ProvenanceReviewer } from '../../escalation/provenance.reviewer';
import type { ExecutionResult } from '../../protocol/execution-result';
import type { ReviewInput } from '../../protocol/gateway.types';
import { EscalationNotFoundError, ProvenanceError } from '../../protocol/provenance.errors';
import { refusalOf, type ToolRefusal, type ToolVerdict } from '../tool-gate';
import { deferredById, forgetDeferred, type DeferredCall } from './deferred-call';
import { OpenAIAgentsMessages } from './openai-agents.messages';
import { inputTextOf } from './policy-approval';
import { toolCallInput } from './tool-call-input';

type AnyRunState = RunState<any, any>;

/**
 * The escalation the gateway holds for an interruption of a tool guarded
 * with `approvals: 'deferred'` (for a review page: `reviewer.pending()`
 * lists it), or null when the interruption is not one.
 */
export function agentToolEscalationId(interruption: RunToolApprovalItem): string | null {
  return heldCallOf(interruption)?.escalationId ?? null;
}

/**
 * Approves an interrupted tool call: the reviewer approves its escalation
 * as `input.approverId` (take it from the authenticated request, never from
 * the agent; the agent itself may not approve), then the interruption is
 * approved in `state`, and `run(agent, state)` runs the call under that
 * approval. Resolves with the gateway's ALLOW (`actorHumanId` is the approver).
 *
 * Rejects, leaving `state` as it was, with the reviewer's errors
 * (`EscalationNotFoundError` when the escalation already ended: reject the
 * interruption instead; `ApprovalForbiddenError` for the agent's own id).
 * If the gateway still refuses the call (it could not record the approval),
 * the interruption is rejected with that refusal and the promise rejects with its error.
 */
export async function approveAgentToolCall(
  reviewer: ProvenanceReviewer,
  state: AnyRunState,
  interruption: RunToolApprovalItem,
  input: ReviewInput,
): Promise<ExecutionResult> {
  const call = deferredCallOf(interruption);
  await reviewer.approve(call.escalationId as string, input);
  const verdict = await call.verdict;
  if (verdict.allowed) {
    state.approve(interruption);
    return verdict.result;
  }
  forgetDeferred(call);
  state.reject(interruption, { message: JSON.stringify(verdict.refusal) });
  throw verdict.error;
}

/**
 * Rejects an interrupted tool call: the reviewer rejects its escalation as
 * `input.approverId` (unless it already ended: expired or withdrawn), and
 * the interruption is rejected in `state` with the refusal as the text the
 * model reads when the run resumes. Resolves with that refusal. Rejects with
 * `EscalationNotFoundError` when the call was approved meanwhile.
 */
export async function rejectAgentToolCall(
  reviewer: ProvenanceReviewer,
  state: AnyRunState,
  interruption: RunToolApprovalItem,
  input: ReviewInput,
): Promise<ToolRefusal> {
  const call = deferredCallOf(interruption);
  const escalationId = call.escalationId as string;
  if (!call.settled) await reviewer.reject(escalationId, input);
  const verdict = await refusalOrAllow(call);
  if (verdict.allowed) throw new EscalationNotFoundError(escalationId);
  forgetDeferred(call);
  state.reject(interruption, { message: JSON.stringify(verdict.refusal) });
  return verdict.refusal;
}

/** The held call's answer; with `onBlock: 'throw'` its error is a refusal here too. */
async function refusalOrAllow(call: DeferredCall): Promise<ToolVerdict> {
  try {
    return await call.verdict;
  } catch (error) {
    if (!(error instanceof ProvenanceError)) throw error;
    return { allowed: false, action: call.action, refusal: refusalOf(call.action, error), error };
  }
}

function deferredCallOf(interruption: RunToolApprovalItem): DeferredCall {
  const call = heldCallOf(interruption);
  if (call === undefined) {
    throw new ProvenanceError(OpenAIAgentsMessages.notDeferred(callIdOf(interruption)));
  }
  return call;
}

function heldCallOf(interruption: RunToolApprovalItem): DeferredCall | undefined {
  const callId = callIdOf(interruption);
  if (callId === undefined) return undefined;
  const call = deferredById(callId);
  if (call === undefined || call.escalationId === null) return undefined;
  // The interruption must be of the very call the gateway holds.
  const inputText = inputTextOf(toolCallInput(interruption.arguments));
  if (interruption.name !== call.toolName || inputText !== call.inputText) return undefined;
  return call;
}

function callIdOf(interruption: RunToolApprovalItem): string | undefined {
  const raw = (interruption as { rawItem?: { type?: unknown; callId?: unknown } } | null)?.rawItem;
  return raw?.type === 'function_call' && typeof raw.callId === 'string' && raw.callId !== ''
    ? raw.callId
    : undefined;
}
