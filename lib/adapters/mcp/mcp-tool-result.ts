import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolRefusal, ToolVerdict } from '../tool-gate';
import { McpMessages } from './mcp.messages';

/** Where a refused call's details are, in the error result's `_meta`. */
export const REFUSAL_META_KEY = 'nestjs-provenance/refusal';
/** Where an allowed call's decision is, in the tool result's `_meta`. */
export const DECISION_META_KEY = 'nestjs-provenance/decision';

/** What `_meta['nestjs-provenance/decision']` holds on the result of a call that ran. */
export interface McpToolDecision {
  /** The policy action the tool is. */
  action: string;
  /** The audit event of the ALLOW. */
  eventId: string | null;
  /** The escalation a human approved, when the call was held. */
  escalationId: string | null;
  /** Who approved it, when the call was held. */
  approvedBy: string | null;
  /** What the approver wrote. */
  approverReason: string | null;
}

/** A tool error result, the SDK's own shape: what a client (and its model) reads. */
export function toolErrorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** What a reviewer wrote with a rejection, from the library's error. */
export function approverReasonOf(cause: unknown): string | null {
  const reason = (cause as { approverReason?: unknown } | null | undefined)?.approverReason;
  return typeof reason === 'string' && reason !== '' ? reason : null;
}

/**
 * The native error result of a refused call: the reason as text (with the
 * reviewer's words, when a reviewer rejected it), the details in `_meta`.
 */
export function refusalResult(refusal: ToolRefusal, cause?: unknown): CallToolResult {
  const approverReason = approverReasonOf(cause);
  const details = approverReason === null ? { ...refusal } : { ...refusal, approverReason };
  return {
    ...toolErrorResult(McpMessages.refused(refusal.reason, approverReason)),
    _meta: { [REFUSAL_META_KEY]: details },
  };
}

/** The tool's own result, with the decision that let it run added to its `_meta`. */
export function withDecision<R>(result: R, verdict: ToolVerdict & { allowed: true }): R {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  const decision: McpToolDecision = {
    action: verdict.action,
    eventId: verdict.result.eventId,
    escalationId: verdict.result.escalationId,
    approvedBy: verdict.result.actorHumanId,
    approverReason: verdict.result.approverReason,
  };
  const meta = (result as { _meta?: unknown })._meta;
  const own = meta !== null && typeof meta === 'object' && !Array.isArray(meta) ? meta : {};
  return { ...result, _meta: { ...own, [DECISION_META_KEY]: decision } };
}
