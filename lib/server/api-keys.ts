import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { ServerMessages } from '../protocol/provenance.messages';
import type { GatewayServerApiKey } from './options';

/** `pk_<env>_<body>`: env is alphanumeric, the body url-safe base64, at least 8 characters. */
const KEY_PATTERN = /^pk_([A-Za-z0-9]+)_([A-Za-z0-9_-]{8,})$/;
const PREFIX_PATTERN = /^pk_[A-Za-z0-9]+_[A-Za-z0-9_-]{8}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Who a valid key acts for. Never carries the key. */
export interface ApiKeyScope {
  tenantId: string;
  policyId: string;
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
    const digest = createHash('sha256').update(key, 'utf8').digest();
    let found: StoredKey | null = null;
    // No early exit: every candidate is compared.
    for (const candidate of candidates) {
      if (timingSafeEqual(candidate.digest, digest) && found === null) found = candidate;
    }
    return found === null ? null : { tenantId: found.tenantId, policyId: found.policyId };
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
