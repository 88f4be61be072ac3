import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';
import { generateApiKey } from '../../../lib/server/api-keys';
import { createGatewayServer } from '../../../lib/server/factory';
import type { ProvenanceGatewayServerOptions } from '../../../lib/server/options';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/**
 * The policy of these tests. Expected answers, by docs/policy.md's rules:
 * - payments.initiate with amount <= 100 → ALLOW "Small payments are fine";
 *   amount > 100 (or missing: null fails `<=`) → ESCALATE, same reason;
 * - data.delete → BLOCK "Deleting data is not allowed";
 * - anything else → ALLOW "No rule matched; default ALLOW".
 */
export const TEST_POLICY: PolicyDocument = {
  name: 'server-e2e',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ name: 'small', field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Small payments are fine',
    },
    { action: 'data.delete', on_match: 'BLOCK', reason: 'Deleting data is not allowed' },
  ],
};

/**
 * The principals of the reviewer keys `startServer` configures for tenant-a,
 * one key each: a reviewer key decides only as its principal, so every name
 * the tests approve or reject as has its own key.
 */
export const REVIEWERS = ['cfo@example.com', 'cfo', 'alice', 'bob', 'ops', 'risk', 'a'] as const;
export type Reviewer = (typeof REVIEWERS)[number];

export interface TestServer {
  app: INestApplication;
  url: string;
  /** tenant-a's agent key (role `agent`: execute and wait). */
  apiKey: string;
  tenantId: string;
  /** tenant-a's reviewer keys (role `reviewer`: list and decide), by principal. */
  reviewerKeys: Record<Reviewer, string>;
  /** `{ url, apiKey }` of the reviewer key of `principal` (default cfo@example.com), for `call()`. */
  reviewer(principal?: Reviewer): { url: string; apiKey: string };
  /** A second tenant's key and id, for scoping tests. */
  otherKey: string;
  otherTenantId: string;
  /** The second tenant's reviewer key (principal `mallory`). */
  otherReviewerKey: string;
  auditDir: string;
  close(): Promise<void>;
}

export async function startServer(
  platform: Platform,
  overrides: Partial<ProvenanceGatewayServerOptions> = {},
): Promise<TestServer> {
  const auditDir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-server-'));
  const apiKey = generateApiKey('test');
  const otherKey = generateApiKey('test');
  const otherReviewerKey = generateApiKey('test');
  const tenantId = 'tenant-a';
  const otherTenantId = 'tenant-b';
  const reviewerKeys = Object.fromEntries(
    REVIEWERS.map((principal) => [principal, generateApiKey('test')]),
  ) as Record<Reviewer, string>;
  const app = await createGatewayServer(
    {
      keys: [
        { key: apiKey, tenantId, policy: TEST_POLICY },
        { key: otherKey, tenantId: otherTenantId, policy: TEST_POLICY },
        ...REVIEWERS.map((principal) => ({
          key: reviewerKeys[principal],
          tenantId,
          role: 'reviewer' as const,
          principal,
        })),
        {
          key: otherReviewerKey,
          tenantId: otherTenantId,
          role: 'reviewer' as const,
          principal: 'mallory',
        },
      ],
      audit: { store: 'file', dir: auditDir, durable: false },
      escalationTimeoutMs: 10_000,
      ...overrides,
    },
    { platform, logger: false },
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    url,
    apiKey,
    tenantId,
    reviewerKeys,
    reviewer: (principal: Reviewer = 'cfo@example.com') => ({
      url,
      apiKey: reviewerKeys[principal],
    }),
    otherKey,
    otherTenantId,
    otherReviewerKey,
    auditDir,
    async close() {
      await app.close();
      fs.rmSync(auditDir, { recursive: true, force: true });
    },
  };
}

/** A plain `fetch` with the API key header and a JSON body, as the reference SDKs send. */
export async function call(
  server: { url: string; apiKey: string },
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(server.url + route, {
    method,
    headers: {
      'X-PROVENANCE-API-KEY': server.apiKey,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Polls until `check` returns a value (for "the escalation is now pending"). */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
