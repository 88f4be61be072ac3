/** The texts of the OpenAI Agents adapter (`nestjs-provenance/openai-agents`). What reaches a model never names a URL. */
export const OpenAIAgentsMessages = {
  /** What the policy coverage line calls the wrapped tools. */
  toolsForCoverage: () => 'the OpenAI Agents tools',
  notToolList: (got: unknown) =>
    `guardAgentTools takes an array of @openai/agents tools; got ${got === null ? 'null' : typeof got}`,
  notFunctionTool: (index: number | null, got: unknown) =>
    `${index === null ? 'the tool' : `tools[${index}]`} cannot be gated: only function tools ` +
    `(tool(), agent.asTool()) run in this process; got ${describe(got)}. ` +
    'Hosted, computer, shell and apply-patch tools are not gated: give them to the Agent apart, knowingly',
  notDeferred: (callId: unknown) =>
    `no pending escalation is the interrupted tool call ${typeof callId === 'string' ? `'${callId}'` : '(no call id)'}: ` +
    "it is not a call of a tool guarded with approvals: 'deferred' (in the interruption's agent), " +
    'or it was already decided, expired or withdrawn',
  /** The reason the model reads when a reviewer rejected an interrupted call. */
  rejected: () => 'a reviewer rejected this call, so it did not run',
} as const;

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === null ? 'null' : typeof value;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? `a '${type}' tool` : 'an object that is not a tool';
}
