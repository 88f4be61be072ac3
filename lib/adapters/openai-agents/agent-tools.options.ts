import type { FunctionTool } from '@openai/agents';
import type { ToolGateOptions } from '../tool-gate';
import type { ToolApprovals } from '../tool-gate/tool-approvals';

/** What `FunctionTool.invoke` receives third: the tool call, the run's abort signal, ... */
export type AgentToolCallDetails = Parameters<FunctionTool['invoke']>[2];

/** How a call the policy escalates waits for its human (the AI SDK adapter's `ToolApprovals`). */
export type AgentToolApprovals = ToolApprovals;

/** The options of `guardAgentTools`: those of every adapter, and how escalations wait. */
export interface AgentToolGateOptions extends ToolGateOptions {
  /**
   * `'held'` (default): an escalated call is held inside the tool's invoke
   * until a human decides (or the escalation timeout), and the run waits.
   * `'deferred'`: the tool's `needsApproval` asks the policy: ALLOW runs,
   * a refusal is the tool's output, an escalation interrupts the run
   * (`result.interruptions`) while the gateway keeps the escalation pending;
   * decide it with `approveAgentToolCall` / `rejectAgentToolCall`, then
   * resume with `run(agent, state)` on any replica: the approved call runs
   * under a single-use grant, any other is refused, never held. The policy
   * replaces the tool's own `needsApproval`.
   */
  approvals?: AgentToolApprovals;
}
