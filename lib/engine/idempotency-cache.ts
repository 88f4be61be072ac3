import type { GatewayRequest, GatewayResponse } from '../protocol/gateway.types';
import { sha256Hex } from '../protocol/canonical-json';
import { parametersTextOf } from '../protocol/canonical-stamp';
import { quote } from '../protocol/python-json';
import type { IdempotencyLookup, IdempotencyStore } from './idempotency-store';

interface Entry {
  fingerprint: string;
  response: Promise<GatewayResponse>;
}

export type { IdempotencyLookup } from './idempotency-store';

/**
 * The engine's idempotency keys: the first answer to a key (the same promise
 * while it is in flight), remembered for the `limit` most recently used keys.
 * The same key with a different call (another fingerprint) is a conflict.
 */
export class IdempotencyCache implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit: number) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  lookup(
    key: string,
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
  ): IdempotencyLookup {
    const fingerprint = fingerprintOf(request, parameters);
    const seen = this.entries.get(key);
    if (seen === undefined) return { kind: 'miss', fingerprint };
    // Refresh its place in the LRU order.
    this.entries.delete(key);
    this.entries.set(key, seen);
    return seen.fingerprint === fingerprint
      ? { kind: 'replay', response: seen.response }
      : { kind: 'conflict' };
  }

  remember(key: string, fingerprint: string, response: Promise<GatewayResponse>): void {
    this.entries.set(key, { fingerprint, response });
    if (this.entries.size > this.limit) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    // A failed call was never answered: let a retry with the same key try again.
    response.catch(() => {
      if (this.entries.get(key)?.response === response) this.entries.delete(key);
    });
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * sha256 of canonicalJson({ sessionId, agentId, action, parameters }) with the
 * parameters' remembered text spliced in: the other members are validated
 * strings, and the keys are in code-point order.
 */
export function fingerprintOf(
  request: GatewayRequest,
  parameters: Record<string, unknown> | null,
): string {
  const canonicalParameters = parametersTextOf(parameters) as string;
  return sha256Hex(
    `{"action":${quote(request.action)},"agentId":${quote(request.agentId)}` +
      `,"parameters":${canonicalParameters},"sessionId":${quote(request.sessionId)}}`,
  );
}
