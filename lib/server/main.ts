#!/usr/bin/env node
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ServerMessages } from '../protocol/provenance.messages';
import type { PolicyDocument } from '../engine/policy/policy.types';
import { apiKeyPrefix, generateApiKey, isPrintableName } from './api-keys';
import { createGatewayServer } from './factory';
import type { GatewayServerApiKey } from './options';

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
 * The standalone gateway of `npm run gateway`: one tenant, one agent API key,
 * optionally one reviewer key, the sample policy, the audit trail in
 * `.provenance/`. Reads PORT (default 4587), HOST (default 127.0.0.1),
 * PROVENANCE_POLICY, PROVENANCE_API_KEY (the agent's), PROVENANCE_TENANT_ID,
 * PROVENANCE_ESCALATION_TIMEOUT_MS, PROVENANCE_AUDIT_DIR,
 * PROVENANCE_ALLOW_EMPTY_POLICY (`true` accepts a policy with no rules, which
 * ALLOWs everything; refused otherwise), PROVENANCE_REVIEWER_API_KEY +
 * PROVENANCE_REVIEWER_ID (a reviewer key and the principal it decides as; both
 * or neither) and PROVENANCE_INSECURE_ANY_KEY_DECIDES (`true`: the server
 * option `reviewAnyKey`, insecure). Generates the agent key and a tenant id
 * when not given and prints what a client needs; never prints a given key.
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
  const reviewer = reviewerFromEnv(env);
  const reviewAnyKey = flag(env, 'PROVENANCE_INSECURE_ANY_KEY_DECIDES');

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

  const keys: GatewayServerApiKey[] = [{ key: apiKey, tenantId, policy }];
  if (reviewer !== null) {
    if (reviewer.key === apiKey) throw new Error(ServerMessages.reviewerKeyIsAgentKey());
    keys.push({ key: reviewer.key, tenantId, role: 'reviewer', principal: reviewer.principal });
  }
  const app = await createGatewayServer({
    keys,
    reviewAnyKey,
    escalationTimeoutMs: timeout,
    audit: {
      store: 'file',
      dir: env.PROVENANCE_AUDIT_DIR?.trim() || '.provenance',
      signingKey: env.PROVENANCE_AUDIT_SIGNING_KEY?.trim() || undefined,
    },
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
  print(
    `  API key:    ${givenKey === undefined ? apiKey : '(from PROVENANCE_API_KEY)'} (role agent)`,
  );
  if (reviewer !== null) {
    print(`  reviewer:   ${reviewer.principal} (key from PROVENANCE_REVIEWER_API_KEY)`);
  } else if (reviewAnyKey) {
    print('  reviewer:   none; every key decides (PROVENANCE_INSECURE_ANY_KEY_DECIDES=true)');
  } else {
    print(`  reviewer:   none. ${ServerMessages.noReviewerKey()}`);
  }
  if (reviewAnyKey) print(`  WARNING:    ${ServerMessages.reviewAnyKeyInsecure()}`);
  print('');
  print('Try it:');
  // A key this process made up is shown as is; one from the environment by its variable (double quotes: the shell expands it).
  const agentHeader =
    givenKey === undefined
      ? `'X-PROVENANCE-API-KEY: ${apiKey}'`
      : '"X-PROVENANCE-API-KEY: $PROVENANCE_API_KEY"';
  print(
    `  curl -s ${url}/v1/gateway/execute -H ${agentHeader} ` +
      `-H 'Content-Type: application/json' -d '{"session_id":"sess_0123456789abcdef","agent_id":"my-agent",` +
      `"action":"payments.initiate","parameters":{"amount":50,"currency":"GBP"},"decision":"ALLOW"}'`,
  );
  if (reviewer !== null || reviewAnyKey) {
    const decider =
      reviewer !== null ? '"X-PROVENANCE-API-KEY: $PROVENANCE_REVIEWER_API_KEY"' : agentHeader;
    // A reviewer key decides as its principal: no approver_id needed.
    const body =
      reviewer !== null
        ? '{"decision":"APPROVE","reason":"Verified"}'
        : '{"decision":"APPROVE","approver_id":"cfo@example.com","reason":"Verified"}';
    print(`  curl -s ${url}/v1/escalations/pending -H ${decider}`);
    print(
      `  curl -s ${url}/v1/escalations/<id>/decide -H ${decider} ` +
        `-H 'Content-Type: application/json' -d '${body}'`,
    );
  }
  print('');
  print(
    'Clients: PROVENANCE_GATEWAY_URL=' +
      url +
      ' PROVENANCE_API_KEY=<the agent key> PROVENANCE_AGENT_ID=<agent>',
  );
  if (reviewer !== null) {
    print(
      `Reviewers: the same URL with the reviewer key; decisions are recorded as ${reviewer.principal}.`,
    );
  }
  return { app, url, tenantId, policySource };
}

/** PROVENANCE_REVIEWER_API_KEY + PROVENANCE_REVIEWER_ID: both (a reviewer key) or neither (null). */
function reviewerFromEnv(
  env: Record<string, string | undefined>,
): { key: string; principal: string } | null {
  const key = env.PROVENANCE_REVIEWER_API_KEY?.trim() || undefined;
  const principal = env.PROVENANCE_REVIEWER_ID?.trim() || undefined;
  if (key === undefined && principal === undefined) return null;
  if (key === undefined || principal === undefined)
    throw new Error(ServerMessages.reviewerEnvPair());
  if (apiKeyPrefix(key) === null) throw new Error(ServerMessages.badEnvReviewerKey());
  if (!isPrintableName(principal)) {
    throw new Error(
      ServerMessages.badServerOption(
        'PROVENANCE_REVIEWER_ID',
        'the name the reviewer decides as, 1-256 printable characters',
        principal,
      ),
    );
  }
  return { key, principal };
}

/** A true/false switch: unset, empty or `false` is off, `true` on, anything else a start-up error. */
function flag(env: Record<string, string | undefined>, name: string): boolean {
  const value = env[name]?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new Error(ServerMessages.badServerOption(name, 'true or false', value));
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
