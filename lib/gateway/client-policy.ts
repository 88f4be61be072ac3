import type { CompiledPolicy } from '../engine/policy/policy.types';
import { EmbeddedTransport } from '../transport/embedded/embedded.transport';
import type { ProvenanceClient } from './provenance.client';

/**
 * The policy a client's embedded engine has in force now (a reload replaces
 * the one it started with), also for an engine given as `deps.transport`;
 * null for a remote gateway, whose policy is not known here.
 */
export function policyInForce(client: ProvenanceClient): CompiledPolicy | null {
  const { transport } = client;
  if (transport instanceof EmbeddedTransport) return transport.engine.policy;
  return client.policy;
}
