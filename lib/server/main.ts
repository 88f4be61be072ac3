#!/usr/bin/env node
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import type { PolicyDocument } from '../engine/policy/policy.types';
import { apiKeyPrefix, generateApiKey } from './api-keys';
import { createGatewayServer } from './factory';

/** Used when no policy file is given or found: fail closed, every action BLOCKed. */
export const DENY_BY_DEFAULT_POLICY: PolicyDocument = {
  name: 'deny-by-default',
  description:
    'Built-in fallback of the standalone gateway: nothing is allowed until a policy says so.',
  rules: [{ action: '*', on_match: 'BLOCK', reason: 'No policy configured: denied by default' }],
};

export const DEFAULT_PORT = 4587;

export interface StandaloneGateway {
  app: INestApplication;
  url: string;
  tenantId: string;
  policySource: string;
}

/**
 * The standalone gateway of `npm run gateway`: one tenant, one API key, the
 * sample policy, the audit trail in `.provenance/`. Reads
 * PORT (default 4587), HOST (default 127.0.0.1), PROVENANCE_POLICY,
 * PROVENANCE_API_KEY, PROVENANCE_TENANT_ID, PROVENANCE_ESCALATION_TIMEOUT_MS
 * PROVENANCE_AUDIT_DIR and PROVENANCE_ALLOW_EMPTY_POLICY (`true` accepts a policy
 * with no rules, which ALLOWs everything; refused otherwise); generates a key and a tenant id when not given
 * and prints what a client needs.
 */
export async function startStandaloneGateway(
  env: Record<string, string | undefined> = process.env,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<StandaloneGateway> {
  const port = integer(env.PORT, 'PORT', DEFAULT_PORT, 0);
  const host = env.HOST?.trim() || '127.0.0.1';
  const timeout = env.PROVENANCE_ESCALATION_TIMEOUT_MS?.trim()
    ? integer(env.PROVENANCE_ESCALATION_TIMEOUT_MS, 'PROVENANCE_ESCALATION_TIMEOUT_MS', 60_000, 1)
    : undefined;

  const givenKey = env.PROVENANCE_API_KEY?.trim() || undefined;
  if (givenKey !== undefined && apiKeyPrefix(givenKey) === null) {
    throw new Error(ServerMessages.badEnvApiKey());
  }
  const apiKey = givenKey ?? generateApiKey('live');
  const tenantId = env.PROVENANCE_TENANT_ID?.trim() || randomUUID();

  let policy: string | PolicyDocument;
  let policySource: string;
  const givenPolicy = env.PROVENANCE_POLICY?.trim();
  if (givenPolicy) {
    policy = policySource = path.resolve(givenPolicy);
  } else {
    const sample = findSamplePolicy();
    if (sample !== null) {
      policy = policySource = sample;
    } else {
      print(ServerMessages.builtInPolicy(path.resolve('sample', 'policy.yml')));
      policy = DENY_BY_DEFAULT_POLICY;
      policySource = 'built-in deny-by-default';
    }
  }

  const app = await createGatewayServer({
    keys: [{ key: apiKey, tenantId, policy }],
    escalationTimeoutMs: timeout,
    audit: { store: 'file', dir: env.PROVENANCE_AUDIT_DIR?.trim() || '.provenance' },
    allowEmptyPolicy: env.PROVENANCE_ALLOW_EMPTY_POLICY?.trim() === 'true',
  });
  app.enableShutdownHooks();
  await app.listen(port, host);
  const address = app.getHttpServer().address() as { port: number };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost}:${address.port}`;

  print(ServerMessages.started(url));
  print(`  policy:     ${policySource}`);
  print(`  tenant id:  ${tenantId}`);
  // The key is printed only when this process made it up: a key from the environment is the user's already.
  print(`  API key:    ${givenKey === undefined ? apiKey : '(from PROVENANCE_API_KEY)'}`);
  print('');
  print('Try it:');
  print(
    `  curl -s ${url}/v1/gateway/execute -H 'X-PROVENANCE-API-KEY: ${givenKey === undefined ? apiKey : '$PROVENANCE_API_KEY'}' ` +
      `-H 'Content-Type: application/json' -d '{"session_id":"sess_0123456789abcdef","agent_id":"my-agent",` +
      `"action":"payments.initiate","parameters":{"amount":50,"currency":"GBP"},"decision":"ALLOW"}'`,
  );
  print('');
  print(
    'Clients: PROVENANCE_GATEWAY_URL=' +
      url +
      ' PROVENANCE_API_KEY=<the key> PROVENANCE_AGENT_ID=<agent>',
  );
  return { app, url, tenantId, policySource };
}

/** sample/policy.yml next to the sources (lib/server) or to the compiled files (dist/lib/server). */
function findSamplePolicy(): string | null {
  const candidates = [
    path.resolve('sample', 'policy.yml'),
    path.join(__dirname, '..', '..', 'sample', 'policy.yml'),
    path.join(__dirname, '..', '..', '..', 'sample', 'policy.yml'),
  ];
  return candidates.find((file) => existsSync(file)) ?? null;
}

function integer(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new Error(ServerMessages.badServerOption(name, `a whole number >= ${min}`, value));
  }
  return parsed;
}

if (require.main === module) {
  startStandaloneGateway().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
