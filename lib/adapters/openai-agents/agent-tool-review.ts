import type { RunState, RunToolApprovalItem } from '@openai/agents';
import type { ProvenanceReviewer } from '../../escalation/provenance.reviewer';
import type { EscalationRecord, ReviewInput, ReviewOutcome } from '../../protocol/gateway.types';
import { ProvenanceError } from '../../protocol/provenance.errors';
import type { ToolRefusal } from '../tool-gate';
import {
  deferredById,
  deferredToolOf,
  forgetDeferred,
  inputTextOf,
  type DeferredTool,
} from '../tool-gate/deferred-tool-call';
import { pendingEscalationOf } from '../tool-gate/pending-escalation';
import { OpenAIAgentsMessages } from './openai-agents.messages';
import { toolCallInput } from './tool-call-input';

type AnyRunState = RunState<any, any>;

/**
 * The escalation this process asked for an interruption of a tool guarded
 * with `approvals: 'deferred'` (through the gateway of the interruption's
 * agent's tool, when it has it; for a review page: `reviewer.pending()` lists it), or null when the interruption is not one this process asked
 * (another replica's: `approveAgentToolCall` finds it among the pending ones).
 */
export function agentToolEscalationId(interruption: RunToolApprovalItem): string | null {
  const callId = callIdOf(interruption);
  if (callId === undefined) return null;
  const call = deferredById(callId);
  const inputText = inputTextOf(toolCallInput(interruption.arguments));
  // The interruption must be of the very call the gateway keeps pending.
  const toolName = interruption.name ?? '';
  const gateway = guardedToolOf(interruption, toolName)?.gateway;
  if (call?.isCallOf(gateway, toolName, inputText) !== true) return null;
  return call.escalationId;
}

/**
 * Approves an interrupted tool call: the reviewer approves its escalation
 * as `input.approverId` (take it from the authenticated request, never from
 * the agent; the agent itself may not approve), then the interruption is
 * approved in `state`. The escalation is this process's ask for the call,
 * else the pending one of exactly that call (action, agent, parameters), so
 * the run may have been interrupted on another replica (`RunState.fromString`).
 * The approval is a single-use grant for that identical call: the resumed
 * `run(agent, state)`, on any replica, runs it under that grant (its ALLOW
 * names the approver). Resolves with the reviewer's outcome.
 *
 * Rejects, leaving `state` as it was, with a ProvenanceError when no pending
 * escalation is the call, and with the reviewer's errors
 * (`EscalationNotFoundError` when it already ended: reject the interruption
 * instead; `ApprovalForbiddenError` for the agent's own id).
 */
export async function approveAgentToolCall(
  reviewer: ProvenanceReviewer,
  state: AnyRunState,
  interruption: RunToolApprovalItem,
  input: ReviewInput,
): Promise<ReviewOutcome> {
  const { escalationId } = await escalationOf(reviewer, interruption);
  const outcome = await reviewer.approve(escalationId, input);
  state.approve(interruption);
  return outcome;
}

/**
 * Rejects an interrupted tool call: the reviewer rejects its escalation as
 * `input.approverId`, and the interruption is rejected in `state` with the
 * refusal as the text the model reads when the run resumes. Resolves with
 * that refusal. Rejects, leaving `state` as it was, with a ProvenanceError
 * when no pending escalation is the call, and with the reviewer's errors
 * (`EscalationNotFoundError` when the call was approved, expired or withdrawn meanwhile).
 */
export async function rejectAgentToolCall(
  reviewer: ProvenanceReviewer,
  state: AnyRunState,
  interruption: RunToolApprovalItem,
  input: ReviewInput,
): Promise<ToolRefusal> {
  const { escalationId, tool } = await escalationOf(reviewer, interruption);
  const outcome = await reviewer.reject(escalationId, input);
  const refusal: ToolRefusal = {
    blocked: true,
    reason: OpenAIAgentsMessages.rejected(),
    eventId: null,
    action: tool?.action ?? interruption.name ?? '',
    escalationId,
  };
  if (outcome.reason !== null && outcome.reason !== '') refusal.approverReason = outcome.reason;
  const call = deferredById(callIdOf(interruption) ?? '');
  if (call?.escalationId === escalationId) forgetDeferred(call);
  state.reject(interruption, { message: JSON.stringify(refusal) });
  return refusal;
}

/** The pending escalation of the interrupted call, and its guarded tool when this process has it. */
async function escalationOf(
  reviewer: ProvenanceReviewer,
  interruption: RunToolApprovalItem,
): Promise<{ escalationId: string; tool: DeferredTool | undefined }> {
  const callId = callIdOf(interruption);
  const toolName = interruption.name;
  const tool = toolName === undefined ? undefined : guardedToolOf(interruption, toolName);
  let pending: Promise<EscalationRecord[]> | undefined;
  const escalationId =
    callId === undefined || toolName === undefined
      ? null
      : await pendingEscalationOf(
          { toolCallId: callId, toolName, input: toolCallInput(interruption.arguments), tool },
          () => (pending ??= reviewer.pending()),
        );
  if (escalationId === null) {
    throw new ProvenanceError(OpenAIAgentsMessages.notDeferred(callId));
  }
  return { escalationId, tool };
}

/** The tool of the interruption's agent by that name, when it is guarded with deferred approvals. */
function guardedToolOf(
  interruption: RunToolApprovalItem,
  toolName: string,
): DeferredTool | undefined {
  const tools = (interruption.agent as { tools?: unknown } | undefined)?.tools;
  if (!Array.isArray(tools)) return undefined;
  const named = tools.find((tool: { name?: unknown } | null) => tool?.name === toolName);
  return deferredToolOf(named);
}

function callIdOf(interruption: RunToolApprovalItem): string | undefined {
  const raw = (interruption as { rawItem?: { type?: unknown; callId?: unknown } } | null)?.rawItem;
  return raw?.type === 'function_call' && typeof raw.callId === 'string' && raw.callId !== ''
    ? raw.callId
    : undefined;
}
