import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ExecutionResult } from '../../protocol/execution-result';
import { toolParameters } from './tool-gate';
import type { ToolGateOptions } from './tool-gate.options';

/** How many deferred asks this process remembers; the oldest go first. */
const MAX_DEFERRED_CALLS = 10_000;

/** A tool gated with deferred approvals: which gateway, which tool, which action, which options. */
export interface DeferredTool {
  gateway: ProvenanceGateway;
  toolName: string;
  action: string;
  options: ToolGateOptions;
}

/**
 * One tool call put to `gateway.executeDeferred` before it runs (an
 * adapter's `needsApproval`): the answer the gateway gave (an ALLOW the
 * call then runs under, a refusal the model reads, or an escalation the
 * gateway keeps pending for a reviewer, on any replica). Kept by tool-call
 * id, so asking twice is one decision, and an approval helper finds the
 * escalation in-process.
 */
export class DeferredToolCall {
  /** The escalation the gateway keeps pending; null until (and unless) the answer is ESCALATE. */
  escalationId: string | null = null;

  constructor(
    readonly gateway: ProvenanceGateway,
    readonly toolName: string,
    readonly toolCallId: string,
    /** The tool input's JSON text, to match the call handed over later. */
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

  /** Whether this is `gateway`'s call of `toolName` with this input text. */
  isCallOf(gateway: ProvenanceGateway | undefined, toolName: string, inputText: string): boolean {
    return (
      (gateway === undefined || this.gateway === gateway) &&
      this.toolName === toolName &&
      this.inputText === inputText
    );
  }
}

/** The tools gated with deferred approvals (the gated copies), to find a call another replica asked. */
const deferredTools = new WeakMap<object, DeferredTool>();

/** The deferred tool `tool` is, when an adapter gated it with deferred approvals. */
export function deferredToolOf(tool: unknown): DeferredTool | undefined {
  return typeof tool === 'object' && tool !== null ? deferredTools.get(tool) : undefined;
}

/** `tool` (an adapter's gated copy) is `deferred`. */
export function rememberDeferredTool(tool: object, deferred: DeferredTool): void {
  deferredTools.set(tool, deferred);
}

/** The deferred calls of this process, by tool-call id, oldest first. */
const deferredCalls = new Map<string, DeferredToolCall>();

function rememberDeferred(call: DeferredToolCall): void {
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
): DeferredToolCall | undefined {
  if (toolCallId === undefined) return undefined;
  const call = deferredCalls.get(toolCallId);
  return call?.isCallOf(gateway, toolName, inputText) === true ? call : undefined;
}

/** The deferred call with this id, whichever gateway asked. */
export function deferredById(toolCallId: string): DeferredToolCall | undefined {
  return deferredCalls.get(toolCallId);
}

/** The call was run (or refused), or rejected by a reviewer: no longer kept. */
export function forgetDeferred(call: DeferredToolCall): void {
  if (deferredCalls.get(call.toolCallId) === call) deferredCalls.delete(call.toolCallId);
}

/** The text a deferred call is matched on: its input as JSON. */
export function inputTextOf(input: unknown): string {
  return String(JSON.stringify(input));
}

/**
 * The call put to `gateway.executeDeferred` (its input only), once per
 * tool-call id: the known ask when this process already made it, else a
 * new one, remembered when it has an id. On ESCALATE the gateway detaches
 * the hold: the escalation stays pending, and an approval becomes a
 * single-use grant for the identical call.
 */
export function askDeferred(
  tool: DeferredTool,
  input: unknown,
  toolCallId: string | undefined,
): DeferredToolCall {
  const { gateway, toolName, action, options } = tool;
  const inputText = inputTextOf(input);
  const known = deferredFor(gateway, toolCallId, toolName, inputText);
  if (known !== undefined) return known;
  let answer: Promise<ExecutionResult>;
  try {
    const parameters = toolParameters({ toolName, input }, options);
    // executeDeferred, with an ALLOW carried into the tool's body (runAllowedTool).
    answer = gateway.decideCall({
      action,
      parameters,
      options: { sessionId: options.sessionId },
      deferred: true,
      carryDecision: true,
    });
  } catch (error) {
    answer = Promise.reject(error);
  }
  const call = new DeferredToolCall(gateway, toolName, toolCallId ?? '', inputText, answer);
  if (typeof toolCallId === 'string' && toolCallId !== '') rememberDeferred(call);
  return call;
}
