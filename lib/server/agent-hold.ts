import type { ProvenanceEngine } from '../engine/provenance-engine';
import { ServerMessages } from '../protocol/provenance.messages';
import { scopeOf } from './auth.guard';
import { WireHttpError } from './errors';
import type { GatewayServerTenants } from './tenants';

/**
 * What the agent's routes on its own held call share (withdraw, detach):
 * the escalation must be pending, of the key's tenant and, when the key names
 * its agent, of that agent; then `end` ends the agent's wait on it. Anything
 * else (unknown, another tenant's or agent's, already ended, or `end` found
 * it ended) is a 404 naming the escalation.
 */
export async function endAgentHold(
  tenants: GatewayServerTenants,
  req: unknown,
  id: string,
  end: (gateway: ProvenanceEngine, escalationId: string) => Promise<boolean>,
): Promise<void> {
  const scope = scopeOf(req);
  const tenant = tenants.of(scope);
  const record = await tenant.gateway.escalation(id);
  const foreign =
    record === undefined ||
    record.tenantId !== tenant.id ||
    (scope.agentId !== null && record.agentId !== scope.agentId);
  if (foreign || record.status !== 'PENDING' || !(await end(tenant.gateway, id))) {
    throw WireHttpError.message(404, ServerMessages.escalationNotFound(id));
  }
}
