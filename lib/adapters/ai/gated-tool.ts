import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import type { ProvenanceToolsOptions } from './ai-tools.options';

/** One gated tool: which tool, which action, under which options. */
export interface GatedTool {
  gateway: ProvenanceGateway;
  toolName: string;
  action: string;
  options: ProvenanceToolsOptions;
}
