import { Logger } from '@nestjs/common';
import { checkPolicyCoverage } from '../../gateway/policy-coverage.check';
import type { ProvenanceGateway } from '../../gateway/provenance.gateway';
import { actionOf } from './tool-gate';
import type { ToolGateOptions } from './tool-gate.options';

/**
 * The `policyCoverage` check of a set of tools, when they are wrapped: the
 * action of each tool (through `actions`) must be matched by a rule other
 * than a catch-all (docs/policy.md, "Coverage"). One warning line for the
 * whole set, or with `strict` a ProvenanceConfigError: the wrapping fails.
 * `framework` names the tools in the message (`AI SDK tools`).
 */
export function checkToolCoverage(
  gateway: ProvenanceGateway,
  toolNames: readonly string[],
  options: ToolGateOptions,
  framework: string,
): void {
  // A test double that only decides has no client, hence no policy to read.
  const client = (gateway as Partial<ProvenanceGateway>).client;
  if (client?.options === undefined || toolNames.length === 0) return;
  const actions = toolNames.map((name) => actionOf(name, options));
  const logger = client.options.logger ?? new Logger('Provenance');
  checkPolicyCoverage(client, actions, framework, logger);
}
