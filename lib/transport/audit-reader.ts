import type { AuditVerification } from '../engine/audit/audit-chain';
import type { AuditEvent } from '../engine/audit/audit-event';
import type { AuditVerifyOptions } from '../engine/audit/audit-log.options';
import type { AuditQuery } from '../engine/audit/audit-query';

/**
 * What `gateway.audit` reads, whichever gateway decides: the embedded
 * engine's `AuditLog` (which has these methods, with these signatures, and
 * more: append, open, store, size) or a remote gateway's audit API
 * (`RemoteAuditReader`). The shapes are the same camelCase ones in both
 * modes, so code that lists or verifies the trail runs unchanged when the
 * app moves from embedded to remote.
 */
export interface AuditReader {
  /**
   * The events that match, oldest first: the most recent `limit`, or with
   * `offset` the first `limit` from that position on; every match without
   * `limit`.
   */
  list(query?: AuditQuery): Promise<AuditEvent[]>;
  /** How many events match. */
  count(query?: Omit<AuditQuery, 'limit'>): Promise<number>;
  /**
   * Verifies the stored trail (chain, head anchor, canonical lines, signed
   * checkpoints where configured). A remote gateway always compares the
   * store with its live head too (as `{ live: true }`).
   */
  verify(options?: AuditVerifyOptions): Promise<AuditVerification>;
}
