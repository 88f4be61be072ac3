/**
 * The approval responses a resumed request carries, read from the messages
 * it passes to the SDK: ModelMessage[] (the last message a `tool` message
 * with `tool-approval-response` parts, matched to the assistant's
 * `tool-approval-request` and `tool-call` parts) or UIMessage[] (the last
 * message's tool parts in state `approval-responded`, as
 * `addToolApprovalResponse` leaves them).
 */
export interface ToolApprovalResponse {
  approvalId: string;
  approved: boolean;
  /** The user's reason, when the UI gave one. */
  reason: string | null;
  /** The call it answers; null when the messages hold no such request or call. */
  toolCallId: string | null;
  toolName: string | null;
  input: unknown;
}

type Part = Record<string, unknown>;

/** The approval responses of the last message, in order. */
export function approvalResponsesOf(messages: unknown): ToolApprovalResponse[] {
  if (!Array.isArray(messages) || messages.length === 0) return [];
  const last = messages[messages.length - 1] as { role?: unknown } | null;
  if (Array.isArray((last as { parts?: unknown } | null)?.parts)) return uiResponsesOf(last);
  if (last?.role !== 'tool') return [];
  const requests = new Map<string, string>();
  const calls = new Map<string, Part>();
  for (const message of messages) {
    if ((message as { role?: unknown } | null)?.role !== 'assistant') continue;
    for (const part of partsOf(message, 'content')) {
      if (part.type === 'tool-approval-request' && typeof part.toolCallId === 'string') {
        requests.set(String(part.approvalId), part.toolCallId);
      } else if (part.type === 'tool-call') {
        calls.set(String(part.toolCallId), part);
      }
    }
  }
  return partsOf(last, 'content')
    .filter((part) => part.type === 'tool-approval-response')
    .map((part) => {
      const approvalId = String(part.approvalId);
      const toolCallId = requests.get(approvalId) ?? null;
      const call = toolCallId === null ? undefined : calls.get(toolCallId);
      return {
        approvalId,
        approved: part.approved === true,
        reason: typeof part.reason === 'string' && part.reason !== '' ? part.reason : null,
        toolCallId: call === undefined ? null : toolCallId,
        toolName: typeof call?.toolName === 'string' ? call.toolName : null,
        input: call?.input,
      };
    });
}

/** True when the last message approves the call with this id (the SDK asks `needsApproval` again then). */
export function approvedInMessages(messages: unknown, toolCallId: unknown): boolean {
  if (typeof toolCallId !== 'string') return false;
  return approvalResponsesOf(messages).some(
    (response) => response.approved && response.toolCallId === toolCallId,
  );
}

function uiResponsesOf(message: unknown): ToolApprovalResponse[] {
  const responses: ToolApprovalResponse[] = [];
  for (const part of partsOf(message, 'parts')) {
    const type = typeof part.type === 'string' ? part.type : '';
    if (
      part.state !== 'approval-responded' ||
      (!type.startsWith('tool-') && type !== 'dynamic-tool')
    ) {
      continue;
    }
    const approval = (part.approval ?? {}) as Part;
    const toolName = type === 'dynamic-tool' ? part.toolName : type.slice('tool-'.length);
    responses.push({
      approvalId: String(approval.id),
      approved: approval.approved === true,
      reason:
        typeof approval.reason === 'string' && approval.reason !== '' ? approval.reason : null,
      toolCallId: typeof part.toolCallId === 'string' ? part.toolCallId : null,
      toolName: typeof toolName === 'string' ? toolName : null,
      input: part.input,
    });
  }
  return responses;
}

function partsOf(message: unknown, key: 'content' | 'parts'): Part[] {
  const parts = (message as Record<string, unknown> | null)?.[key];
  if (!Array.isArray(parts)) return [];
  return parts.filter((part): part is Part => typeof part === 'object' && part !== null);
}
