// nestjs-provenance/langchain: gate LangChain tools (@langchain/core 1.x) and createAgent (langchain 1.x).
export { guardLangChainTool, guardLangChainTools } from './guard-langchain-tools';
export { provenanceMiddleware, type ProvenanceMiddlewareOptions } from './provenance-middleware';
export { refusalMessage } from './refusal-message';
export { currentToolDecision } from '../tool-gate/tool-decision';
export type { ToolActions, ToolGateOptions, ToolRefusal } from '../tool-gate';
