import type { ProvenanceReviewer } from '../../escalation/provenance.reviewer';
import type { EscalationRecord } from '../../protocol/gateway.types';
import { EscalationNotFoundError, ProvenanceConfigError } from '../../protocol/provenance.errors';
import { deferredById, deferredToolOf, forgetDeferred } from '../tool-gate/deferred-tool-call';
import { pendingEscalationOf } from '../tool-gate/pending-escalation';
import { AiAdapterMessages } from './ai.messages';
import { approvalResponsesOf, type ToolApprovalResponse } from './tool-approval-responses';

/** Who answers the approval requests, and with which words. */
export interface RecordToolApprovalsOptions {
  /** The authenticated user who answered in the UI (never the agent: the reviewer refuses its id). */
  approverId: string;
  /** Recorded with each answer that gives no reason of its own. */
  reason?: string;
  /**
   * The tool set from `provenanceTools(..., { approvals: 'deferred' })`: to
   * find an escalation this process did not ask for (another replica did),
   * among the reviewer's pending ones, by action, agent and parameters.
   */
  tools?: Readonly<Record<string, unknown>>;
}

/** What became of one approval response. */
export interface ToolApprovalOutcome {
  approvalId: string;
  toolCallId: string | null;
  toolName: string | null;
  /** The escalation answered; null when none was found. */
  escalationId: string | null;
  /** `not-found`: no pending escalation is this call (never asked, already decided, expired). */
  outcome: 'approved' | 'rejected' | 'not-found';
}

/**
 * Records the user's answers to the SDK's tool approval requests through
 * the reviewer, as `approverId`, before the resumed request passes the same
 * messages to `generateText` / `streamText`. An approval becomes a grant
 * for exactly that call, which its execute in the resumed request uses; a
 * rejection leaves none (the SDK gives the model `execution-denied`).
 * Resolves with one outcome per approval response of the last message.
 * Rejects with the reviewer's errors other than a missing escalation
 * (`ApprovalForbiddenError` for the agent's own id).
 */
export async function recordToolApprovals(
  reviewer: ProvenanceReviewer,
  messages: readonly unknown[],
  options: RecordToolApprovalsOptions,
): Promise<ToolApprovalOutcome[]> {
  checkInput(reviewer, options);
  const { approverId } = options;
  let pending: Promise<EscalationRecord[]> | undefined;
  const pendingOnce = () => (pending ??= reviewer.pending());
  const outcomes: ToolApprovalOutcome[] = [];
  for (const response of approvalResponsesOf(messages)) {
    const { approvalId, toolCallId, toolName } = response;
    const escalationId = await escalationOf(response, options, pendingOnce);
    const outcome: ToolApprovalOutcome = {
      approvalId,
      toolCallId,
      toolName,
      escalationId,
      outcome: 'not-found',
    };
    outcomes.push(outcome);
    if (escalationId === null) continue;
    const input = { approverId, reason: response.reason ?? options.reason ?? null };
    try {
      if (response.approved) await reviewer.approve(escalationId, input);
      else await reviewer.reject(escalationId, input);
    } catch (error) {
      if (error instanceof EscalationNotFoundError) continue;
      throw error;
    }
    outcome.outcome = response.approved ? 'approved' : 'rejected';
    const call = toolCallId === null ? undefined : deferredById(toolCallId);
    if (!response.approved && call !== undefined) forgetDeferred(call);
  }
  return outcomes;
}

/** `recordToolApprovals`, under the name of the sketch. */
export const provenanceToolApproval = recordToolApprovals;

/** The escalation of the call a response answers: this process's, else a pending one that is exactly it. */
function escalationOf(
  response: ToolApprovalResponse,
  options: RecordToolApprovalsOptions,
  pending: () => Promise<EscalationRecord[]>,
): Promise<string | null> {
  const { toolCallId, toolName, input } = response;
  if (toolCallId === null || toolName === null) return Promise.resolve(null);
  const tool = deferredToolOf(options.tools?.[toolName]);
  return pendingEscalationOf({ toolCallId, toolName, input, tool }, pending);
}

function checkInput(reviewer: ProvenanceReviewer, options: RecordToolApprovalsOptions): void {
  if (typeof (reviewer as { approve?: unknown } | null)?.approve !== 'function') {
    throw new ProvenanceConfigError('reviewer', AiAdapterMessages.notAReviewer(reviewer));
  }
  const approverId = (options as { approverId?: unknown } | undefined)?.approverId;
  if (typeof approverId !== 'string' || approverId.trim() === '') {
    throw new ProvenanceConfigError('approverId', AiAdapterMessages.badApproverId(approverId));
  }
}
