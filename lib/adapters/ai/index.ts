/**
 * `nestjs-provenance/ai`: policy-gated tools for the Vercel AI SDK (`ai` 6).
 * Loaded only by this sub-path; `ai` is an optional peer dependency.
 */
export { provenanceTool, provenanceTools, type ProvenanceToolsOptions } from './provenance-tools';
export type { ToolApprovals } from './ai-tools.options';
export {
  provenanceToolApproval,
  recordToolApprovals,
  type RecordToolApprovalsOptions,
  type ToolApprovalOutcome,
} from './record-tool-approvals';
export { ToolCallRefusedError } from './tool-call-refused.error';
export { toolDecisionOf } from './tool-decision';
export { currentToolDecision } from '../tool-gate/tool-decision';
export type { ToolActions, ToolRefusal } from '../tool-gate/tool-gate.options';
