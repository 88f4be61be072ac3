import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { isValidIdentity } from '../protocol/identity';
import { ServerMessages } from '../protocol/provenance.messages';
import type {
  GatewayServerApiKey,
  GatewayServerKeyRole,
  ProvenanceGatewayServerOptions,
} from './options';

/** `pk_<env>_<body>`: env is alphanumeric, the body url-safe base64, at least 8 characters. */
const KEY_PATTERN = /^pk_([A-Za-z0-9]+)_([A-Za-z0-9_-]{8,})$/;
const PREFIX_PATTERN = /^pk_[A-Za-z0-9]+_[A-Za-z0-9_-]{8}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Who a valid key acts for, and as what. Never carries the key. */
export interface ApiKeyScope {
  tenantId: string;
  policyId: string;
  /** `agent` (execute, wait) or `reviewer` (list, decide): lib/server/roles.ts. */
  role: GatewayServerKeyRole;
  /** A reviewer key's principal: the approver its decisions are recorded as. Null for agent keys. */
  principal: string | null;
  /** The only `agent_id` an agent key may act as, or null for any. Null for reviewer keys. */
  agentId: string | null;
}

const ROLES: readonly GatewayServerKeyRole[] = ['agent', 'reviewer'];
/** Principals and agent ids end up in the audit trail and in log lines: 1-256 characters, none a control character. */
export function isPrintableName(value: unknown): value is string {
  // The one identity rule (lib/protocol/identity.ts): no control, bidi or line-separator characters.
  return isValidIdentity(value);
}

/**
 * The server's key list: `keys`, or `apiKeys` (another name for it). Both at
 * once is a start-up error. Either may be missing here (the validator says so).
 */
export function serverKeys(options: ProvenanceGatewayServerOptions): GatewayServerApiKey[] {
  const { keys, apiKeys } = options;
  if (keys !== undefined && apiKeys !== undefined) {
    throw new ProvenanceConfigError('apiKeys', ServerMessages.keysAndApiKeys());
  }
  return (keys ?? apiKeys) as GatewayServerApiKey[];
}

/**
 * The role fields of one key entry, checked at start-up: `role` is `agent`
 * (default) or `reviewer`; a reviewer names its `principal` and no `agentId`;
 * an agent key has no `principal` and may name its `agentId`.
 */
export function checkKeyRole(
  entry: GatewayServerApiKey,
  index: number,
): Pick<ApiKeyScope, 'role' | 'principal' | 'agentId'> {
  const at = (field: string) => `keys[${index}].${field}`;
  const refuse = (field: string, expected: string, got: unknown): never => {
    throw new ProvenanceConfigError(
      at(field),
      ServerMessages.badServerOption(at(field), expected, got),
    );
  };
  const role = entry.role ?? 'agent';
  if (!ROLES.includes(role)) refuse('role', "'agent' or 'reviewer' (default 'agent')", entry.role);
  if (role === 'reviewer') {
    if (!isPrintableName(entry.principal)) {
      refuse(
        'principal',
        'the name this reviewer key decides as (1-256 printable characters, e.g. cfo@example.com); ' +
          'required for a reviewer key',
        entry.principal,
      );
    }
    if (entry.agentId !== undefined) {
      refuse(
        'agentId',
        "left out on a reviewer key (a reviewer is not an agent; role 'agent')",
        entry.agentId,
      );
    }
    return { role, principal: entry.principal as string, agentId: null };
  }
  if (entry.principal !== undefined) {
    refuse(
      'principal',
      "left out on an agent key (only a key with role 'reviewer' decides)",
      entry.principal,
    );
  }
  if (entry.agentId !== undefined && !isPrintableName(entry.agentId)) {
    refuse(
      'agentId',
      'the agent_id this key may act as (1-256 printable characters)',
      entry.agentId,
    );
  }
  return { role, principal: null, agentId: entry.agentId ?? null };
}

interface StoredKey extends ApiKeyScope {
  digest: Buffer;
}

/** A new key as the reference server issues them: `pk_<env>_` + 43 url-safe characters (256 random bits). */
export function generateApiKey(env = 'live'): string {
  if (!/^[A-Za-z0-9]+$/.test(env)) {
    throw new ProvenanceConfigError(
      'env',
      ServerMessages.badServerOption('env', 'alphanumeric', env),
    );
  }
  return `pk_${env}_${randomBytes(32).toString('base64url')}`;
}

/** The lookup prefix of a key, `pk_<env>_<first 8 of body>`, or null for what is not a key. */
export function apiKeyPrefix(key: string): string | null {
  const match = KEY_PATTERN.exec(key);
  return match === null ? null : `pk_${match[1]}_${match[2].slice(0, 8)}`;
}

/** Hex SHA-256 of a key: what the server keeps instead of the key. */
export function apiKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The server's API keys, as docs/protocol.md ("Authentication") describes them:
 * only SHA-256 digests are kept, found by the key's prefix, and compared in
 * constant time. The prefix is not secret (it is what a log may show); a
 * prefix shared by several keys is fine, each candidate is compared.
 */
export class ApiKeyRing {
  private readonly byPrefix = new Map<string, StoredKey[]>();

  constructor(keys: readonly GatewayServerApiKey[]) {
    const seen = new Set<string>();
    keys.forEach((entry, index) => {
      const { prefix, digest } = ApiKeyRing.digestOf(entry, index);
      const hex = digest.toString('hex');
      if (seen.has(hex))
        throw new ProvenanceConfigError(`keys[${index}]`, ServerMessages.duplicateKey(index));
      seen.add(hex);
      const stored: StoredKey = {
        digest,
        tenantId: entry.tenantId,
        policyId: entry.policyId ?? entry.tenantId,
        ...checkKeyRole(entry, index),
      };
      const list = this.byPrefix.get(prefix);
      if (list === undefined) this.byPrefix.set(prefix, [stored]);
      else list.push(stored);
    });
  }

  get size(): number {
    let total = 0;
    for (const list of this.byPrefix.values()) total += list.length;
    return total;
  }

  /** The scope of a valid key, or null. Takes about the same time for any wrong key of a known prefix. */
  lookup(key: unknown): ApiKeyScope | null {
    if (typeof key !== 'string' || key.length > 512) return null;
    const prefix = apiKeyPrefix(key);
    if (prefix === null) return null;
    const candidates = this.byPrefix.get(prefix);
    if (candidates === undefined) return null;
    // One-shot `crypto.hash` (no Hash object per request); the same SHA-256 of the UTF-8 text.
    const digest = hash('sha256', key, 'buffer');
    let found: StoredKey | null = null;
    // No early exit: every candidate is compared.
    for (const candidate of candidates) {
      if (timingSafeEqual(candidate.digest, digest) && found === null) found = candidate;
    }
    if (found === null) return null;
    const { tenantId, policyId, role, principal, agentId } = found;
    return { tenantId, policyId, role, principal, agentId };
  }

  private static digestOf(
    entry: GatewayServerApiKey,
    index: number,
  ): { prefix: string; digest: Buffer } {
    if (typeof entry.key === 'string') {
      const prefix = apiKeyPrefix(entry.key);
      if (prefix === null)
        throw new ProvenanceConfigError(`keys[${index}].key`, ServerMessages.badKey(index));
      return { prefix, digest: createHash('sha256').update(entry.key, 'utf8').digest() };
    }
    if (typeof entry.prefix !== 'string' || !PREFIX_PATTERN.test(entry.prefix)) {
      throw new ProvenanceConfigError(
        `keys[${index}].prefix`,
        ServerMessages.badServerOption(
          `keys[${index}].prefix`,
          'pk_<env>_<first 8 characters of the body> (or give `key`)',
          entry.prefix,
        ),
      );
    }
    const sha = typeof entry.sha256 === 'string' ? entry.sha256.toLowerCase() : entry.sha256;
    if (typeof sha !== 'string' || !SHA256_HEX.test(sha)) {
      throw new ProvenanceConfigError(
        `keys[${index}].sha256`,
        ServerMessages.badServerOption(
          `keys[${index}].sha256`,
          'a hex SHA-256 digest of the key',
          sha,
        ),
      );
    }
    return { prefix: entry.prefix, digest: Buffer.from(sha, 'hex') };
  }
}
