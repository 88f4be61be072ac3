import { Decision } from '../../protocol/decision';
import type { ExecutionResult } from '../../protocol/execution-result';
import {
  EscalationTimeoutError,
  GatewayError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
} from '../../protocol/provenance.errors';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { runAllowedTool } from './tool-decision';
import { AdapterMessages } from './adapter.messages';
import type { ToolCall, ToolGateOptions, ToolRefusal } from './tool-gate.options';

/** The gateway's answer to one tool call: run it, or tell the model why not. */
export type ToolVerdict =
  | { allowed: true; action: string; result: ExecutionResult }
  | { allowed: false; action: string; refusal: ToolRefusal; error: ProvenanceError };

/** The policy action of a tool: from the map or function, else the tool's own name. */
export function actionOf(toolName: string, options: ToolGateOptions = {}): string {
  const { actions } = options;
  if (actions === undefined) return toolName;
  const action = typeof actions === 'function' ? actions(toolName) : actions[toolName];
  if (action === undefined && typeof actions !== 'function') return toolName;
  if (typeof action !== 'string' || action === '') {
    throw new ProvenanceConfigError('actions', AdapterMessages.badAction(toolName, action));
  }
  return action;
}

/** The audit parameters of a call: the tool's input only, through `params` when given. */
export function toolParameters(
  call: ToolCall,
  options: ToolGateOptions = {},
): Record<string, unknown> | null {
  if (options.params !== undefined) return options.params(call.input, call.toolName) ?? null;
  const { input } = call;
  if (input === undefined || input === null) return null;
  if (typeof input === 'object' && !Array.isArray(input)) return input as Record<string, unknown>;
  return { input };
}

/**
 * Decides one tool call before it runs. A call the policy escalates is held
 * until a human decides (or its deadline passes); aborting `call.signal`
 * withdraws it. Resolves with the verdict; with `onBlock: 'throw'` a refusal
 * rejects instead. A gateway that cannot decide is a refusal too: the tool
 * never runs, and the model never sees the gateway's address.
 */
export function decideToolCall(
  gateway: ProvenanceGateway,
  call: ToolCall,
  options: ToolGateOptions = {},
): Promise<ToolVerdict> {
  let action: string;
  let parameters: Record<string, unknown> | null;
  try {
    action = actionOf(call.toolName, options);
    parameters = toolParameters(call, options);
  } catch (error) {
    return Promise.reject(error);
  }
  // execute$, with the ALLOW carried into the tool's body (runAllowedTool).
  const execution = gateway.decide$({
    action,
    parameters,
    options: {
      sessionId: options.sessionId,
      idempotencyKey: call.toolCallId === undefined ? undefined : `tool-call:${call.toolCallId}`,
    },
    carryDecision: true,
  });
  return new Promise<ToolVerdict>((resolve, reject) => {
    const { signal } = call;
    let final: ExecutionResult | null = null;
    const onAbort = () => {
      // Unsubscribing withdraws a held call: no reviewer can approve a call that will never run.
      subscription.unsubscribe();
      reject(signal?.reason ?? new ProvenanceError(AdapterMessages.aborted(action)));
    };
    const finish = () => signal?.removeEventListener('abort', onAbort);
    const subscription = execution.subscribe({
      next: (result) => {
        if (result.decision !== Decision.ESCALATE) final = result;
        else notifyEscalated(call, result);
      },
      error: (error: unknown) => {
        finish();
        refused(action, error, options).then(resolve, reject);
      },
      complete: () => {
        finish();
        if (final?.decision === Decision.ALLOW) resolve({ allowed: true, action, result: final });
        else reject(new ProvenanceError(AdapterMessages.noAnswer(action)));
      },
    });
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `body` only after an ALLOW for exactly this call; otherwise resolves
 * with the refusal (or, with `onBlock: 'throw'`, rejects).
 */
export async function runGatedTool<T>(
  gateway: ProvenanceGateway,
  call: ToolCall,
  options: ToolGateOptions,
  body: () => T | Promise<T>,
): Promise<T | ToolRefusal> {
  const verdict = await decideToolCall(gateway, call, options);
  if (!verdict.allowed) return verdict.refusal;
  return runAllowedTool(verdict.result, body);
}

async function refused(
  action: string,
  error: unknown,
  options: ToolGateOptions,
): Promise<ToolVerdict> {
  if (options.onBlock === 'throw' || !(error instanceof ProvenanceError)) throw error;
  if (error instanceof ProvenanceConfigError) throw error;
  return { allowed: false, action, refusal: refusalOf(action, error), error };
}

/** What the model may read of a refusal: the reason and the event, never a URL or a stack. */
export function refusalOf(action: string, error: ProvenanceError): ToolRefusal {
  if (error instanceof PolicyBlockedError || error instanceof EscalationTimeoutError) {
    const refusal: ToolRefusal = {
      blocked: true,
      reason: error.reason,
      eventId: error.eventId,
      action,
    };
    if (error.escalationId !== null) refusal.escalationId = error.escalationId;
    const approverReason = error instanceof PolicyBlockedError ? error.approverReason : null;
    if (approverReason !== null && approverReason !== '') refusal.approverReason = approverReason;
    return refusal;
  }
  const reason =
    error instanceof GatewayError ? AdapterMessages.gatewayFailed() : AdapterMessages.refused();
  return { blocked: true, reason, eventId: null, action };
}

/** The hook of a held call; its failure must not keep the call from its answer. */
function notifyEscalated(call: ToolCall, interim: ExecutionResult): void {
  try {
    call.onEscalated?.(interim);
  } catch {
    // Ignored: the decision goes on, and its answer is what counts.
  }
}
