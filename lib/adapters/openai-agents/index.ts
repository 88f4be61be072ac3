// nestjs-provenance/openai-agents: gate the function tools of the OpenAI Agents SDK (@openai/agents).
export { guardAgentTool, guardAgentTools } from './guard-agent-tools';
export { toolDecisionOf } from './tool-decision';
export { currentToolDecision } from '../tool-gate/tool-decision';
export {
  agentToolEscalationId,
  approveAgentToolCall,
  rejectAgentToolCall,
} from './agent-tool-review';
export type { AgentToolApprovals, AgentToolGateOptions } from './agent-tools.options';
export type { ToolActions, ToolRefusal } from '../tool-gate';
