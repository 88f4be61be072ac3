import type { GatewayRequest, GatewayResponse } from '../protocol/gateway.types';

/** What a call with an idempotency key finds. */
export type IdempotencyLookup =
  | { kind: 'miss'; fingerprint: string }
  | { kind: 'replay'; response: Promise<GatewayResponse> }
  | { kind: 'conflict' };

/**
 * Where the engine remembers idempotency keys: in this process
 * (IdempotencyCache) or in a database shared by replicas (lib/postgres).
 *
 * `lookup` claims a key it has not seen (`miss`): the caller then decides the
 * call and hands its answer to `remember`. A key already claimed with the
 * same call is a `replay` (its first answer, awaited while it is in flight,
 * wherever it is being decided); with another call it is a `conflict`. A
 * claim whose answer fails is released, so a retry with the key decides again.
 */
export interface IdempotencyStore {
  /** False turns keys off (every call is decided). */
  readonly enabled: boolean;
  lookup(
    key: string,
    request: GatewayRequest,
    parameters: Record<string, unknown> | null,
  ): IdempotencyLookup | Promise<IdempotencyLookup>;
  remember(key: string, fingerprint: string, response: Promise<GatewayResponse>): void;
  /** Forgets what this process holds (on close); a shared store keeps its keys. */
  clear(): void;
}
