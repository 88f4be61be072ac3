import { canonicalJson } from '../../protocol/canonical-json';
import type { EscalationRecord } from '../../protocol/gateway.types';
import { deferredById, inputTextOf, type DeferredTool } from './deferred-tool-call';
import { toolParameters } from './tool-gate';

/** The call a reviewer's answer is for: its id, tool and input, and (when known here) its gated tool. */
export interface AnsweredCall {
  toolCallId: string;
  toolName: string;
  input: unknown;
  /** The tool, gated with deferred approvals, when this process has it (to search the pending ones). */
  tool: DeferredTool | undefined;
}

/**
 * The escalation a deferred call is waiting on: this process's ask for
 * exactly that call (same id, tool, input and, given the tool, gateway),
 * else a pending escalation that is exactly the call: the tool's action,
 * the gateway's agent, parameters equal as canonical JSON (another replica
 * asked). Null when there is none. `pending` lists the reviewer's pending
 * escalations (asked once for many calls).
 */
export async function pendingEscalationOf(
  call: AnsweredCall,
  pending: () => Promise<EscalationRecord[]>,
): Promise<string | null> {
  const { toolCallId, toolName, input, tool } = call;
  const known = deferredById(toolCallId);
  if (known?.isCallOf(tool?.gateway, toolName, inputTextOf(input)) === true) {
    await known.answer.catch(() => undefined);
    if (known.escalationId !== null) return known.escalationId;
  }
  if (tool === undefined || tool.toolName !== toolName) return null;
  const parameters = canonicalJson(toolParameters({ toolName, input }, tool.options));
  const agentId = tool.gateway.agentId;
  const match = (await pending()).find(
    (escalation) =>
      escalation.status === 'PENDING' &&
      escalation.action === tool.action &&
      escalation.agentId === agentId &&
      escalation.parameters !== undefined &&
      canonicalJson(escalation.parameters) === parameters,
  );
  return match?.id ?? null;
}
