import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ServerMessages } from '../protocol/provenance.messages';
import { newUuid } from '../protocol/uuid';
import type { PolicyDocument } from '../engine/policy/policy.types';
import { notifyTargetsFromEnv, type NotifyTarget } from '../notify/notify-options';
import { DATABASE_SCHEMA_ENV, DATABASE_URL_ENV } from '../postgres/postgres-options';
import { PostgresOptionMessages } from '../postgres/postgres-options.messages';
import { apiKeyPrefix, generateApiKey, isPrintableName } from './api-keys';

/** Used when no policy file is given or found: fail closed, every action BLOCKed. */
export const DENY_BY_DEFAULT_POLICY: PolicyDocument = {
  name: 'deny-by-default',
  description:
    'Built-in fallback of the standalone gateway: nothing is allowed until a policy says so.',
  rules: [{ action: '*', on_match: 'BLOCK', reason: 'No policy configured: denied by default' }],
};

export const DEFAULT_PORT = 4587;

/**
 * The tenant of a standalone gateway on PostgreSQL without PROVENANCE_TENANT_ID:
 * fixed, so that replicas (and restarts) sharing the database share one
 * tenant's chain and escalations, where a file-backed gateway makes one up.
 */
export const DEFAULT_POSTGRES_TENANT = 'default';

/** Where a standalone gateway on PostgreSQL keeps its state (PROVENANCE_DATABASE_URL, PROVENANCE_DATABASE_SCHEMA). */
export interface StandalonePostgres {
  connectionString: string;
  /** Undefined: the default schema (`provenance`). */
  schema: string | undefined;
}

/** A reviewer key and the principal it decides as. */
export interface StandaloneReviewer {
  key: string;
  principal: string;
}

/** What the standalone gateway runs with, read from its environment (main.ts lists the variables). */
export interface StandaloneSettings {
  port: number;
  host: string;
  escalationTimeoutMs: number | undefined;
  /** PROVENANCE_API_KEY, or undefined when the key was generated (then it may be printed). */
  givenKey: string | undefined;
  apiKey: string;
  tenantId: string;
  reviewer: StandaloneReviewer | null;
  reviewAnyKey: boolean;
  policy: string | PolicyDocument;
  policySource: string;
  auditDir: string;
  auditSigningKey: string | undefined;
  allowEmptyPolicy: boolean;
  /** PROVENANCE_DATABASE_URL set: every tenant's state in PostgreSQL (the audit dir is then unused). */
  postgres: StandalonePostgres | null;
  /** PROVENANCE_NOTIFY_URL + PROVENANCE_NOTIFY_SECRET (+ PROVENANCE_NOTIFY_EVENTS): one webhook receiver. */
  notify: NotifyTarget[] | undefined;
}

/**
 * The settings of the standalone gateway from its environment: generates the
 * agent key and a tenant id when not given, and falls back to the sample
 * policy, then to DENY_BY_DEFAULT_POLICY (saying so through `print`).
 */
export function readStandaloneSettings(
  env: Record<string, string | undefined>,
  print: (line: string) => void,
): StandaloneSettings {
  const port = integer(env.PORT, 'PORT', DEFAULT_PORT, 0);
  const host = env.HOST?.trim() || '127.0.0.1';
  const escalationTimeoutMs = env.PROVENANCE_ESCALATION_TIMEOUT_MS?.trim()
    ? integer(env.PROVENANCE_ESCALATION_TIMEOUT_MS, 'PROVENANCE_ESCALATION_TIMEOUT_MS', 60_000, 1)
    : undefined;

  const givenKey = env.PROVENANCE_API_KEY?.trim() || undefined;
  if (givenKey !== undefined && apiKeyPrefix(givenKey) === null) {
    throw new Error(ServerMessages.badEnvApiKey());
  }
  const apiKey = givenKey ?? generateApiKey('live');
  const postgres = postgresFromEnv(env);
  const auditSigningKey = env.PROVENANCE_AUDIT_SIGNING_KEY?.trim() || undefined;
  if (postgres !== null && auditSigningKey !== undefined) {
    throw new Error(PostgresOptionMessages.signingKeyRefused(true));
  }
  const tenantId =
    env.PROVENANCE_TENANT_ID?.trim() || (postgres !== null ? DEFAULT_POSTGRES_TENANT : newUuid());
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

  return {
    port,
    host,
    escalationTimeoutMs,
    givenKey,
    apiKey,
    tenantId,
    reviewer,
    reviewAnyKey,
    policy,
    policySource,
    auditDir: env.PROVENANCE_AUDIT_DIR?.trim() || '.provenance',
    auditSigningKey,
    allowEmptyPolicy: env.PROVENANCE_ALLOW_EMPTY_POLICY?.trim() === 'true',
    postgres,
    notify: notifyTargetsFromEnv(env),
  };
}

/**
 * PROVENANCE_DATABASE_URL turns PostgreSQL on for the standalone gateway
 * (its whole configuration is its environment); PROVENANCE_DATABASE_SCHEMA
 * without it is a mistake, refused rather than ignored.
 */
function postgresFromEnv(env: Record<string, string | undefined>): StandalonePostgres | null {
  const connectionString = env[DATABASE_URL_ENV]?.trim() || undefined;
  const schema = env[DATABASE_SCHEMA_ENV]?.trim() || undefined;
  if (connectionString === undefined) {
    if (schema !== undefined) throw new Error(PostgresOptionMessages.schemaWithoutUrl());
    return null;
  }
  return { connectionString, schema };
}
/** PROVENANCE_REVIEWER_API_KEY + PROVENANCE_REVIEWER_ID: both (a reviewer key) or neither (null). */
function reviewerFromEnv(env: Record<string, string | undefined>): StandaloneReviewer | null {
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
