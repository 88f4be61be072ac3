import type { ToolExecutionOptions } from 'ai';
import { ExecutionResult } from '../../protocol/execution-result';
import { ProvenanceError } from '../../protocol/provenance.errors';
import { AdapterMessages } from '../tool-gate/adapter.messages';
import { decideToolCall, refusalOf } from '../tool-gate/tool-gate';
import { runAllowedTool } from '../tool-gate/tool-decision';
import type { ToolRefusal } from '../tool-gate/tool-gate.options';
import { runAllowedGenerator } from './allowed-generator';
import { deferredToolVerdict } from './deferred-approval';
import type { GatedTool } from './gated-tool';
import { ToolCallRefusedError } from './tool-call-refused.error';
import { rememberDecision } from './tool-decision';

/** An AI SDK tool's `execute`, as the SDK calls it. */
export type ExecuteFunction = (input: unknown, options: ToolExecutionOptions) => unknown;

/** What a tool's `toModelOutput` takes and gives. */
type ModelOutputArgs = { toolCallId: string; input: unknown; output: unknown };
export type ToModelOutput = (args: ModelOutputArgs) => unknown;

/**
 * With `onBlock: 'throw'`: the refusal a gated execute returned in place of
 * the tool's output, and the error the run must end with. The AI SDK turns
 * anything `execute` throws into a `tool-error` and goes on, so the run is
 * ended where the SDK does not catch: the tool's `toModelOutput`.
 */
const abortingRefusals = new WeakMap<object, unknown>();

/**
 * `execute`, gated: the gateway decides the call from its input alone (never
 * the SDK's options: messages, abort signal), with the tool-call id as the
 * idempotency key and the abort signal withdrawing a held call; the tool's
 * own `execute` runs only after an ALLOW. A refusal throws ToolCallRefusedError
 * (the SDK's `tool-error`, which the model reads), or with `onBlock: 'throw'`
 * ends the run. An async generator (preliminary results) stays one. With
 * `approvals: 'deferred'` the decision is the one `needsApproval` got, or
 * for a resumed call the identical call, never held (`deferredToolVerdict`).
 */
export function gatedExecute(
  gated: GatedTool,
  execute: ExecuteFunction,
  self: object,
): ExecuteFunction {
  if (isAsyncGeneratorFunction(execute)) {
    return async function* (input: unknown, options: ToolExecutionOptions) {
      const verdict = await gate(gated, input, options);
      if (!(verdict instanceof ExecutionResult)) {
        yield verdict;
        return;
      }
      // The whole run with the ALLOW in scope, as for a plain execute.
      yield* runAllowedGenerator(
        verdict,
        () => execute.call(self, input, options) as AsyncIterable<unknown>,
      );
    };
  }
  return async (input: unknown, options: ToolExecutionOptions) => {
    const verdict = await gate(gated, input, options);
    if (!(verdict instanceof ExecutionResult)) return verdict;
    // Run with the ALLOW in scope: a guarded method it calls on the same input is not decided again.
    return runAllowedTool(verdict, async () => {
      const output = execute.call(self, input, options);
      // A plain function that returned an iterable: its last value is the output.
      return isAsyncIterable(output) ? lastOf(output) : output;
    });
  };
}

/**
 * The tool's `toModelOutput`, ending the run on a refusal `gatedExecute`
 * returned under `onBlock: 'throw'`; anything else as the tool (or, without
 * one, the SDK) would map it.
 */
export function abortingModelOutput(own: ToModelOutput | undefined, self: object): ToModelOutput {
  return (args: ModelOutputArgs) => {
    const output = args.output;
    if (typeof output === 'object' && output !== null && abortingRefusals.has(output)) {
      throw abortingRefusals.get(output);
    }
    if (own !== undefined) return own.call(self, args);
    return typeof output === 'string'
      ? { type: 'text', value: output }
      : { type: 'json', value: output === undefined ? null : output };
  };
}

/** Resolves with the ALLOW; throws the refusal, or (onBlock 'throw') resolves with the refusal that ends the run. */
async function gate(
  gated: GatedTool,
  input: unknown,
  options: ToolExecutionOptions | undefined,
): Promise<ExecutionResult | ToolRefusal> {
  const { gateway, toolName, action } = gated;
  const signal = options?.abortSignal;
  try {
    const verdict = await (gated.options.approvals === 'deferred'
      ? deferredToolVerdict(gated, input, options)
      : decideToolCall(
          gateway,
          { toolName, input, toolCallId: options?.toolCallId, signal },
          gated.options,
        ));
    if (verdict.allowed) {
      rememberDecision(options, verdict.result);
      return verdict.result;
    }
    throw new ToolCallRefusedError(verdict.refusal, { cause: verdict.error });
  } catch (error) {
    if (error instanceof ToolCallRefusedError) throw error;
    // The run is being aborted: the held call was withdrawn; say so as the SDK does.
    if (signal?.aborted === true) throw error;
    const refusal = refusalFor(action, error);
    if (gated.options.onBlock === 'throw') {
      abortingRefusals.set(refusal, error);
      return refusal;
    }
    // Whatever went wrong, the tool did not run, and the model reads no more than a refusal.
    throw new ToolCallRefusedError(refusal, { cause: error });
  }
}

function refusalFor(action: string, error: unknown): ToolRefusal {
  if (error instanceof ProvenanceError) return refusalOf(action, error);
  return { blocked: true, reason: AdapterMessages.gatewayFailed(), eventId: null, action };
}

function isAsyncGeneratorFunction(fn: Function): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

async function lastOf(iterable: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown;
  for await (const value of iterable) last = value;
  return last;
}
