import { resolve } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { INLINE_POLICY_LABEL } from '../engine/policy/policy-source';
import type { CompiledPolicy } from '../engine/policy/policy.types';
import { redactConnectionString } from '../postgres/connection-string';
import { policyInForce } from './client-policy';
import type { ProvenanceClient } from './provenance.client';
import type { ResolvedClientOptions } from './provenance-client.options';
import { StartupMessages as M } from './startup.messages';

/**
 * The start-up banner (docs/configuration.md, "Start-up banner"): one line
 * that says what decides and where the record goes. Never the API key; a
 * password in the gateway URL or the PostgreSQL connection string is `***`.
 */
export function startupBanner(client: ProvenanceClient): string {
  const { options, transport } = client;
  const policy = client.policy === null ? null : policyInForce(client);
  if (policy === null && options.mode === 'embedded') {
    return M.givenTransportBanner(options.agentId, transport.kind, transport.target);
  }
  if (policy === null) {
    return M.remoteBanner(
      options.agentId,
      redactConnectionString(options.gatewayUrl ?? ''),
      options.tenantPolicyId,
    );
  }
  return M.embeddedBanner(
    options.agentId,
    policyLabel(policy),
    policy.hash,
    policy.version,
    auditLabel(options),
    options.tenantId,
  );
}

/** A policy as the banner and the coverage report name it: its file (absolute), or `inline`. */
export function policyLabel(policy: CompiledPolicy): string {
  return policy.source === null ? INLINE_POLICY_LABEL : resolve(policy.source);
}

function auditLabel(options: ResolvedClientOptions): string {
  const { postgres, audit } = options;
  if (postgres !== null) {
    const where =
      postgres.pool !== undefined
        ? M.applicationPool()
        : redactConnectionString(postgres.connectionString ?? '');
    return M.auditPostgres(where, postgres.schema);
  }
  if (audit.store === 'file') return M.auditFile(resolve(audit.path));
  if (audit.store === 'memory') return M.auditMemory();
  const name = (audit.store as object).constructor?.name;
  return M.auditCustom(name === undefined || name === 'Object' ? 'object' : name);
}

const announced = new WeakSet<ProvenanceClient>();

/**
 * Logs the banner once per client: the module calls this at application
 * bootstrap, a gateway used without the module on its first gated call.
 */
export function announceStartup(client: ProvenanceClient, logger: LoggerService): void {
  if (announced.has(client)) return;
  announced.add(client);
  logger.log(startupBanner(client));
}
