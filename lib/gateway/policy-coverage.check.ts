import type { LoggerService } from '@nestjs/common';
import { uncoveredActions, type UncoveredAction } from '../engine/policy/policy.coverage';
import type { CompiledPolicy } from '../engine/policy/policy.types';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { policyInForce } from './client-policy';
import type { ProvenanceClient } from './provenance.client';
import { StartupMessages as M } from './startup.messages';
import { policyLabel } from './startup-banner';

/**
 * The `policyCoverage` check (docs/policy.md, "Coverage"): are these actions
 * (the app's @Guarded methods, or a set of wrapped tools: `what` says which)
 * each matched by a rule other than a catch-all? `warn` logs one line naming
 * the others and the policy; `strict` throws a ProvenanceConfigError naming
 * them; `off` does nothing. A remote gateway's policy is not known here: no
 * check, no warning. Returns what it found (empty when it did not check).
 */
export function checkPolicyCoverage(
  client: ProvenanceClient,
  actions: Iterable<string>,
  what: string,
  logger: LoggerService,
): UncoveredAction[] {
  const mode = client.options.policyCoverage;
  const policy = policyInForce(client);
  if (mode === 'off' || policy === null) return [];
  const uncovered = uncoveredActions(policy, actions);
  if (uncovered.length === 0) return uncovered;
  const list = uncovered.map((item) => describe(item, policy)).join(', ');
  if (mode === 'strict') {
    throw new ProvenanceConfigError(
      'policyCoverage',
      M.uncoveredRefused(what, policyLabel(policy), list),
    );
  }
  logger.warn(M.uncoveredWarning(what, policyLabel(policy), list));
  return uncovered;
}

function describe(item: UncoveredAction, policy: CompiledPolicy): string {
  if (item.ruleIndex === null) return M.fallsToDefault(item.action);
  return M.fallsToCatchAll(
    item.action,
    item.ruleIndex,
    policy.document.rules[item.ruleIndex].action,
  );
}
