import type { ToolApprovals } from '../tool-gate/tool-approvals';
import type { ToolGateOptions } from '../tool-gate/tool-gate.options';

export type { ToolApprovals } from '../tool-gate/tool-approvals';

/** The options of `provenanceTools` and `provenanceTool`: the shared tool gate's, and how escalations wait. */
export interface ProvenanceToolsOptions extends ToolGateOptions {
  /**
   * `'held'` (default): an escalated call is held inside the tool's `execute`
   * until a human decides (or the escalation timeout), and the request waits.
   * `'deferred'`: each tool's `needsApproval` asks the policy first. ALLOW
   * needs no approval, a refusal is what `execute` answers the model, and an
   * escalation is the SDK's own `tool-approval-request`: the request returns at
   * once while the gateway keeps the escalation pending. Record the user's
   * answer with `recordToolApprovals`, then resume with the messages: the
   * approved call runs under a grant for exactly that call. A tool's own
   * `needsApproval` is asked only after the policy ALLOWs.
   */
  approvals?: ToolApprovals;
}
