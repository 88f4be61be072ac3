export {
  actionOf,
  decideToolCall,
  refusalOf,
  runGatedTool,
  toolParameters,
  type ToolVerdict,
} from './tool-gate';
export { checkToolCoverage } from './tool-coverage';
export { currentToolDecision, runAllowedTool } from './tool-decision';
export type { ToolActions, ToolCall, ToolGateOptions, ToolRefusal } from './tool-gate.options';
