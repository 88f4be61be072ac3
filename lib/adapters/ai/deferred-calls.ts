import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ExecutionResult } from '../../protocol/execution-result';

/** How many deferred asks this process remembers; the oldest go first. */
const MAX_DEFERRED_CALLS = 10_000;

/**
 * One tool call put to `gateway.executeDeferred` by its `needsApproval`:
 * the answer the gateway gave (an ALLOW the following `execute` runs under,
 * a refusal it answers the model with, or an escalation the gateway keeps
 * pending for a reviewer). Kept by tool-call id, so the SDK asking twice is
 * one decision, and `recordToolApprovals` finds the escalation in-process.
 */
export class DeferredCall {
  /** The escalation the gateway keeps pending; null until (and unless) the answer is ESCALATE. */
  escalationId: string | null = null;

  constructor(
    readonly gateway: ProvenanceGateway,
    readonly toolName: string,
    readonly toolCallId: string,
    /** The tool input's JSON text, to match the call the SDK hands over later. */
    readonly inputText: string,
    /** The gateway's answer: resolves with ALLOW or ESCALATE, rejects with the refusal. */
    readonly answer: Promise<ExecutionResult>,
  ) {
    answer.then(
      (result) => {
        if (result.escalated) this.escalationId = result.escalationId;
      },
      () => undefined,
    );
  }
}

/** The deferred calls of this process, by tool-call id, oldest first. */
const deferredCalls = new Map<string, DeferredCall>();

export function rememberDeferred(call: DeferredCall): void {
  deferredCalls.delete(call.toolCallId);
  deferredCalls.set(call.toolCallId, call);
  for (const toolCallId of deferredCalls.keys()) {
    if (deferredCalls.size <= MAX_DEFERRED_CALLS) break;
    deferredCalls.delete(toolCallId);
  }
}

/** The deferred call with this id, when it is this gateway's call of this tool with this input. */
export function deferredFor(
  gateway: ProvenanceGateway,
  toolCallId: string | undefined,
  toolName: string,
  inputText: string,
): DeferredCall | undefined {
  if (toolCallId === undefined) return undefined;
  const call = deferredCalls.get(toolCallId);
  if (
    call === undefined ||
    call.gateway !== gateway ||
    call.toolName !== toolName ||
    call.inputText !== inputText
  ) {
    return undefined;
  }
  return call;
}

/** The deferred call with this id, whichever gateway asked. */
export function deferredById(toolCallId: string): DeferredCall | undefined {
  return deferredCalls.get(toolCallId);
}

/** The call was run (or refused) by its execute, or rejected by a reviewer: no longer kept. */
export function forgetDeferred(call: DeferredCall): void {
  if (deferredCalls.get(call.toolCallId) === call) deferredCalls.delete(call.toolCallId);
}

/** The text a deferred call is matched on: its input as JSON. */
export function inputTextOf(input: unknown): string {
  return String(JSON.stringify(input));
}
