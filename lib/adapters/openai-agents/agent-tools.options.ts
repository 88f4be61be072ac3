import type { FunctionTool } from '@openai/agents';
import type { ToolGateOptions } from '../tool-gate';

/** What `FunctionTool.invoke` receives third: the tool call, the run's abort signal, ... */
export type AgentToolCallDetails = Parameters<FunctionTool['invoke']>[2];

/** The options of `guardAgentTools`: those of every adapter (`ToolGateOptions`). */
export type AgentToolGateOptions = ToolGateOptions;
