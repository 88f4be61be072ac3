import type { LoggerService } from '@nestjs/common';
import type { ProvenanceEngine } from '../engine/provenance-engine';
import type { PolicyReload, PolicySource } from '../engine/policy/policy-in-force';
import { PolicyLifecycleMessages as M } from '../engine/policy/policy-lifecycle.messages';
import type { ShadowReport } from '../engine/policy/shadow-policy';
import { ProvenanceError } from '../protocol/provenance.errors';
import { EmbeddedTransport } from '../transport/embedded/embedded.transport';
import type { GatewayTransport } from '../transport/gateway-transport';

/*
 * The gateway service's policy lifecycle (docs/policy.md, "Hot reload" and
 * "Shadow mode"): only the embedded gateway has a policy here; a remote
 * gateway owns its own, so asking is a clear error rather than a no-op.
 */

function engineOf(
  transport: GatewayTransport,
  remote: (target: string) => string,
): ProvenanceEngine {
  if (transport instanceof EmbeddedTransport) return transport.engine;
  throw new ProvenanceError(remote(transport.target));
}

/**
 * Puts a new policy in force on the embedded gateway; a refused one (its
 * PolicyValidationError, rethrown) is logged, and the old one stays.
 */
export async function reloadPolicyOn(
  transport: GatewayTransport,
  policy: PolicySource | undefined,
  logger: LoggerService,
): Promise<PolicyReload> {
  const engine = engineOf(transport, M.reloadRemote);
  try {
    return await engine.reloadPolicy(policy);
  } catch (error) {
    logger.warn(M.reloadRefused(error instanceof Error ? error.message : String(error)));
    throw error;
  }
}

/** The embedded gateway's shadow report; null when no shadow policy is set. */
export function shadowReportOf(transport: GatewayTransport): ShadowReport | null {
  return engineOf(transport, M.shadowRemote).shadowReport();
}

/** The engine's log (the watch, the shadow policy): the configured logger's warn, or console.warn. */
export function engineLogOf(logger: LoggerService | null): ((message: string) => void) | undefined {
  return logger === null ? undefined : (message) => logger.warn(message);
}
