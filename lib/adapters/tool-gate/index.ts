export {
  actionOf,
  decideToolCall,
  refusalOf,
  runAllowedTool,
  runGatedTool,
  toolParameters,
  type ToolVerdict,
} from './tool-gate';
export { checkToolCoverage } from './tool-coverage';
export type { ToolActions, ToolCall, ToolGateOptions, ToolRefusal } from './tool-gate.options';
