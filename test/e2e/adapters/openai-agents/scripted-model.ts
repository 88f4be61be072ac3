import {
  Usage,
  type AgentOutputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
} from '@openai/agents';

/** One turn of the scripted model: what it answers, possibly from what it was sent. */
export type ScriptStep = AgentOutputItem[] | ((request: ModelRequest) => AgentOutputItem[]);

/**
 * A `Model` of the OpenAI Agents SDK that answers from a script, turn by
 * turn, and keeps every request it was sent (what "the model" read). No
 * network, no OpenAI client. A turn past the end of the script fails the run.
 */
export class ScriptedAgentModel implements Model {
  readonly requests: ModelRequest[] = [];
  private readonly steps: ScriptStep[];

  constructor(steps: ScriptStep[]) {
    this.steps = [...steps];
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const step = this.steps.shift();
    if (step === undefined) {
      throw new Error(`the scripted model has no turn ${this.requests.length}`);
    }
    const output = typeof step === 'function' ? step(request) : step;
    return { usage: new Usage(), output, responseId: `resp_${this.requests.length}` };
  }

  // The runner streams only when asked to (run(..., { stream: true })); these tests never do.
  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('the scripted model does not stream');
  }
}

/** The model asks for a tool: a `function_call` output item. */
export function functionCall(callId: string, name: string, args: string): AgentOutputItem {
  return { type: 'function_call', callId, name, arguments: args, status: 'completed' };
}

/** The model's final answer. */
export function assistantMessage(text: string): AgentOutputItem {
  return {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text }],
  };
}

/** The outputs of the tool calls the model was sent in `request`, by call id (the text it read). */
export function toolOutputsIn(request: ModelRequest | undefined): Map<string, string> {
  const outputs = new Map<string, string>();
  if (request === undefined || typeof request.input === 'string') return outputs;
  for (const item of request.input) {
    if (item.type !== 'function_call_result') continue;
    const { output } = item;
    const text =
      typeof output === 'string'
        ? output
        : output !== null && typeof output === 'object' && 'text' in output
          ? String(output.text)
          : JSON.stringify(output);
    outputs.set(item.callId, text);
  }
  return outputs;
}
