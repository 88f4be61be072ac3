import type { GrantInput, GrantRecord } from '../../protocol/grant.types';
import type { GatewayRequest } from '../../protocol/gateway.types';

/** What a grant lets through: the call, and its parameters' hash where a single-use grant needs it. */
export interface GrantedCall {
  request: GatewayRequest;
  parameters: Record<string, unknown> | null;
  /** Computed only when asked: most calls never meet a single-use grant. */
  parametersHash: () => string;
}

/**
 * Where the engine's standing grants live: in this process (GrantBook) or in
 * a database shared by replicas (lib/postgres). A use is counted exactly once
 * however many replicas race for the last one; a grant is consulted only
 * when the policy says ESCALATE, so it never turns a BLOCK into an ALLOW.
 * Methods may answer at once or with a promise; the engine awaits them.
 */
export interface GrantStore {
  /** A reviewer's standing grant; throws for input that names no clear grant (the error names the field). */
  grant(input: GrantInput, grantedBy: string): GrantRecord | Promise<GrantRecord>;
  /** Uses the first grant that covers the call and returns it with the use counted; null when none does. */
  use(call: GrantedCall): GrantRecord | null | Promise<GrantRecord | null>;
  /** Ends a grant before its time; `GrantNotFoundError` when it is not active. */
  revoke(grantId: string): GrantRecord | Promise<GrantRecord>;
  /** The active grants, oldest first. */
  list(): GrantRecord[] | Promise<GrantRecord[]>;
}
