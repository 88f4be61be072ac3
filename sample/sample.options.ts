import * as path from 'node:path';
import type { LogLevel, LoggerService } from '@nestjs/common';
import type { AuditOptions, ProvenanceModuleOptions } from '../lib';
import { reviewerTokensFromEnv, type ReviewerTokens } from './review/reviewer-tokens';
import { sampleFile } from './sample.paths';

/** What `createSampleApp()` accepts. Everything has a default that runs with no server. */
export interface SampleAppOptions {
  /** The agent's identity in the audit log. Default `sample-agent`. */
  agentId?: string;
  /** A policy file or document for the embedded gateway. Default sample/policy.yml. */
  policy?: ProvenanceModuleOptions['policy'];
  /** Embedded gateway: where audit events go. Default a file under .provenance/ in the working directory. */
  audit?: AuditOptions;
  /** Embedded gateway: how long a held call waits for a reviewer, in ms. Default 60 000. */
  escalationTimeout?: number;
  /** A remote gateway to use instead of the embedded one (with `apiKey`). */
  gatewayUrl?: string;
  apiKey?: string;
  /**
   * Who may use the review page and API at /review: token → principal. Default
   * DEMO_REVIEWER_TOKENS (sample/review/reviewer-tokens.ts), for the demo only.
   */
  reviewers?: ReviewerTokens;
  /** Nest's logger setting. Default: Nest's own. */
  logger?: false | LogLevel[] | LoggerService;
  /**
   * The library's `logger` option (its start-up banner, coverage and fail-open
   * warnings, session summaries). Default: Nest's logger, so `logger: false` silences it too.
   */
  provenanceLogger?: LoggerService;
}

export const DEFAULT_AGENT_ID = 'sample-agent';
export const DEFAULT_AUDIT_FILE = path.join('.provenance', 'sample-audit.jsonl');

/**
 * Reads the sample's settings from the environment:
 * - PROVENANCE_GATEWAY_URL (+ PROVENANCE_API_KEY): use that gateway;
 * - PROVENANCE_AGENT_ID, PROVENANCE_POLICY: as the library reads them;
 * - PROVENANCE_AUDIT=memory: keep the audit log in memory (else .provenance/sample-audit.jsonl);
 * - PROVENANCE_ESCALATION_TIMEOUT_MS: how long escalations wait for a reviewer;
 * - SAMPLE_REVIEWER_TOKENS: who may review, as `token=principal,...` (else the demo tokens).
 */
export function sampleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SampleAppOptions {
  const timeout = Number(env.PROVENANCE_ESCALATION_TIMEOUT_MS);
  return {
    agentId: env.PROVENANCE_AGENT_ID || undefined,
    policy: env.PROVENANCE_POLICY || undefined,
    gatewayUrl: env.PROVENANCE_GATEWAY_URL || undefined,
    apiKey: env.PROVENANCE_API_KEY || undefined,
    audit: env.PROVENANCE_AUDIT === 'memory' ? { store: 'memory' } : undefined,
    escalationTimeout: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    reviewers: reviewerTokensFromEnv(env.SAMPLE_REVIEWER_TOKENS),
  };
}

/** The options handed to `ProvenanceModule.forRoot()`. */
export function provenanceOptions(options: SampleAppOptions): ProvenanceModuleOptions {
  const agentId = options.agentId ?? DEFAULT_AGENT_ID;
  const logger = options.provenanceLogger;
  if (options.gatewayUrl) {
    // The remote gateway holds the policy, the escalations and the audit log.
    return {
      agentId,
      gatewayUrl: options.gatewayUrl,
      apiKey: options.apiKey,
      logger,
    };
  }
  return {
    agentId,
    logger,
    policy: options.policy ?? sampleFile('policy.yml'),
    audit: options.audit ?? { store: 'file', path: path.resolve(DEFAULT_AUDIT_FILE) },
    escalationTimeout: options.escalationTimeout,
  };
}
