#!/usr/bin/env node
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import { createGatewayServer } from './factory';
import type { GatewayServerApiKey, ProvenanceGatewayServerOptions } from './options';
import { printStandaloneBanner } from './standalone-banner';
import { readStandaloneSettings, type StandaloneSettings } from './standalone-settings';

export { DEFAULT_PORT, DENY_BY_DEFAULT_POLICY } from './standalone-settings';

export interface StandaloneGateway {
  app: INestApplication;
  url: string;
  tenantId: string;
  policySource: string;
}

/**
 * The standalone gateway of `npm run gateway`: one tenant, one agent API key,
 * optionally one reviewer key, the sample policy, the audit trail in
 * `.provenance/`. Reads PORT (default 4587), HOST (default 127.0.0.1),
 * PROVENANCE_POLICY, PROVENANCE_API_KEY (the agent's), PROVENANCE_TENANT_ID,
 * PROVENANCE_ESCALATION_TIMEOUT_MS, PROVENANCE_AUDIT_DIR,
 * PROVENANCE_ALLOW_EMPTY_POLICY (`true` accepts a policy with no rules, which
 * ALLOWs everything; refused otherwise), PROVENANCE_REVIEWER_API_KEY +
 * PROVENANCE_REVIEWER_ID (a reviewer key and the principal it decides as; both
 * or neither), PROVENANCE_INSECURE_ANY_KEY_DECIDES (`true`: the server
 * option `reviewAnyKey`, insecure), and PROVENANCE_DATABASE_URL (+ optional
 * PROVENANCE_DATABASE_SCHEMA): every tenant's state in PostgreSQL, shared by
 * the replicas that name the same database and schema (the tenant id then
 * defaults to `default`), and PROVENANCE_NOTIFY_URL + PROVENANCE_NOTIFY_SECRET
 * (+ optional PROVENANCE_NOTIFY_EVENTS): one escalation webhook receiver
 * (docs/webhooks.md). Generates the agent key and a tenant id when not
 * given and prints what a client needs; never prints a given key or a
 * database password.
 */
export async function startStandaloneGateway(
  env: Record<string, string | undefined> = process.env,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<StandaloneGateway> {
  const settings = readStandaloneSettings(env, print);
  const app = await createGatewayServer({
    keys: standaloneKeys(settings),
    reviewAnyKey: settings.reviewAnyKey,
    escalationTimeoutMs: settings.escalationTimeoutMs,
    ...stateOptions(settings),
    allowEmptyPolicy: settings.allowEmptyPolicy,
    notify: settings.notify,
  });
  app.enableShutdownHooks();
  await app.listen(settings.port, settings.host);
  const url = listeningUrl(app, settings.host);
  printStandaloneBanner(settings, url, print);
  return { app, url, tenantId: settings.tenantId, policySource: settings.policySource };
}

/** Files in the audit folder, or (PROVENANCE_DATABASE_URL) PostgreSQL (the settings refused a signing key with it). */
function stateOptions(
  settings: StandaloneSettings,
): Pick<ProvenanceGatewayServerOptions, 'audit' | 'postgres'> {
  if (settings.postgres === null) {
    return {
      audit: { store: 'file', dir: settings.auditDir, signingKey: settings.auditSigningKey },
    };
  }
  const { connectionString, schema } = settings.postgres;
  return { postgres: { connectionString, schema } };
}

/** The agent key, and the reviewer key when there is one (never the agent key again). */
function standaloneKeys(settings: StandaloneSettings): GatewayServerApiKey[] {
  const { apiKey, tenantId, policy, reviewer } = settings;
  const keys: GatewayServerApiKey[] = [{ key: apiKey, tenantId, policy }];
  if (reviewer !== null) {
    if (reviewer.key === apiKey) throw new Error(ServerMessages.reviewerKeyIsAgentKey());
    keys.push({ key: reviewer.key, tenantId, role: 'reviewer', principal: reviewer.principal });
  }
  return keys;
}

/** The URL a client on this machine reaches the listening app at (IPv6 hosts in brackets; 0.0.0.0 as 127.0.0.1). */
function listeningUrl(app: INestApplication, host: string): string {
  const address = app.getHttpServer().address() as { port: number };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`;
}

if (require.main === module) {
  startStandaloneGateway().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
