import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { ProvenanceError } from '../../protocol/provenance.errors';
import { actionOf, decideToolCall, type ToolGateOptions, type ToolVerdict } from '../tool-gate';
import { AdapterMessages } from '../tool-gate/adapter.messages';

/** How many deferred calls this process remembers; the oldest ended ones go first. */
const MAX_DEFERRED_CALLS = 10_000;

/**
 * One tool call the policy escalated while the run went on to interrupt:
 * the gateway holds it, and this process waits for its answer, so the
 * reviewer's decision answers exactly this call (its action, parameters,
 * session and call id). Kept by call id until the resumed run takes it.
 */
export class DeferredCall {
  /** The escalation, once the gateway held the call; null for a call decided at once. */
  escalationId: string | null = null;
  /** True once the gateway answered (ALLOW, or a refusal). */
  settled = false;
  readonly verdict: Promise<ToolVerdict>;
  /** The policy action the tool is. */
  readonly action: string;
  /** Resolves with true when the call is held, false when it was decided at once. */
  readonly held: Promise<boolean>;
  private readonly controller = new AbortController();

  constructor(
    readonly gateway: ProvenanceGateway,
    readonly callId: string,
    readonly toolName: string,
    /** The input's JSON text, to match the call the resumed run invokes. */
    readonly inputText: string,
    input: unknown,
    options: ToolGateOptions,
  ) {
    this.action = actionOf(toolName, options);
    let answer!: (held: boolean) => void;
    this.held = new Promise<boolean>((resolve) => (answer = resolve));
    this.verdict = decideToolCall(
      gateway,
      {
        toolName,
        input,
        toolCallId: callId,
        signal: this.controller.signal,
        onEscalated: (interim) => {
          this.escalationId = interim.escalationId;
          answer(true);
        },
      },
      options,
    );
    const ended = () => {
      this.settled = true;
      answer(false);
    };
    // Whoever takes the call reads the verdict; here it only marks the end.
    this.verdict.then(ended, ended);
  }

  /**
   * The gateway's answer; aborting `signal` while the call is still held
   * withdraws it (the run that waits for it went away).
   */
  answer(signal: AbortSignal | undefined): Promise<ToolVerdict> {
    if (this.settled || signal === undefined) return this.verdict;
    return new Promise<ToolVerdict>((resolve, reject) => {
      const onAbort = () => {
        this.withdraw();
        reject(signal.reason ?? new ProvenanceError(AdapterMessages.aborted(this.action)));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.verdict
        .finally(() => signal.removeEventListener('abort', onAbort))
        .then(resolve, reject);
    });
  }

  /** Gives up on the held call: the gateway ends its escalation as withdrawn. */
  withdraw(): void {
    this.controller.abort();
  }
}

/** The deferred calls of this process, by tool call id, oldest first. */
const deferredCalls = new Map<string, DeferredCall>();

export function rememberDeferred(call: DeferredCall): void {
  deferredCalls.delete(call.callId);
  deferredCalls.set(call.callId, call);
  if (deferredCalls.size <= MAX_DEFERRED_CALLS) return;
  for (const [callId, old] of deferredCalls) {
    if (deferredCalls.size <= MAX_DEFERRED_CALLS) break;
    if (old.settled) deferredCalls.delete(callId);
  }
}

/** The deferred call with this id, when it is this gateway's call of this tool with this input. */
export function deferredFor(
  gateway: ProvenanceGateway,
  callId: string | undefined,
  toolName: string,
  inputText: string,
): DeferredCall | undefined {
  if (callId === undefined) return undefined;
  const call = deferredCalls.get(callId);
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

/** The deferred call with this id, for a reviewer's decision on the interruption. */
export function deferredById(callId: string): DeferredCall | undefined {
  return deferredCalls.get(callId);
}

/** The resumed run took the call (or it was rejected): it is no longer kept. */
export function forgetDeferred(call: DeferredCall): void {
  if (deferredCalls.get(call.callId) === call) deferredCalls.delete(call.callId);
}
