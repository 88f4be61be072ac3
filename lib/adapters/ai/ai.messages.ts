import { AdapterMessages } from '../tool-gate/adapter.messages';
import type { ToolRefusal } from '../tool-gate/tool-gate.options';

/** The texts of the Vercel AI SDK adapter. What reaches a model never names a URL. */
export const AiAdapterMessages = {
  /** What the policy coverage line calls the wrapped tools. */
  toolsForCoverage: () => 'the AI SDK tools',
  /** What the model reads (a `tool-error` part's text) when a call was refused. */
  refused: (refusal: ToolRefusal, approverReason: string | null) =>
    `The call of '${refusal.action}' was refused and the tool did not run: ${refusal.reason}` +
    (approverReason ? ` (the reviewer said: ${approverReason})` : '') +
    (refusal.eventId === null ? '.' : `. Audit event ${refusal.eventId}.`),
  notAGateway: (got: unknown) =>
    `provenanceTools() takes the ProvenanceGateway first (inject it, or new ProvenanceGateway({...})); got ${got === null ? 'null' : typeof got}`,
  notATool: (toolName: string, got: unknown) =>
    `tool '${toolName}' is not an AI SDK tool object (tool({ ... })); got ${got === null ? 'null' : typeof got}`,
  notExecutable: (toolName: string) =>
    `actions names tool '${toolName}', which has no execute function: the AI SDK does not run it, so it cannot be gated here (gate it where it runs)`,
  /** The reason the model reads when a resumed call was not approved (a new escalation, withdrawn at once). */
  notApproved: AdapterMessages.notApproved,
  notAReviewer: (got: unknown) =>
    `recordToolApprovals() takes the ProvenanceReviewer first (inject it); got ${got === null ? 'null' : typeof got}`,
  badApproverId: (got: unknown) =>
    `approverId must be the authenticated user's id (a non-empty string); got ${typeof got === 'string' ? `'${got}'` : String(got)}`,
  unknownTool: (toolName: string) =>
    `actions names tool '${toolName}', which is not one of the tools given (a misspelt name would leave that tool under its own name)`,
} as const;
