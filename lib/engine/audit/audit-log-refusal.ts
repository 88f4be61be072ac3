import { AuditMessages } from '../engine.messages';
import { AuditStoreError } from './audit.errors';
import { AuditFindingMessages } from './audit.messages';
import { FileAuditStore } from './audit-log.file-store';
import type { AuditStore } from './audit-store';

/**
 * Why a log refuses: the store failure after which it no longer knows what
 * the store holds (every later append is refused until the log is reopened),
 * and the one report of a refusing store (damaged, held by another writer,
 * failing) on console.error per log, not per call, with the position of the
 * damage and how to inspect it.
 */
export class AuditLogRefusal {
  /** The failure every append is refused for, or null. */
  reason: unknown = null;
  private said = false;

  constructor(private readonly store: AuditStore) {}

  /** Refuses every later append for `error`, and says so once. */
  refuse(error: unknown): void {
    this.reason = error;
    this.sayOnce(error);
  }

  /**
   * The reason, after taking a failed checkpoint as the log's own (a store
   * that cannot keep its checkpoints is failing: fail closed).
   */
  check(checkpointFailure: unknown): unknown {
    if (this.reason === null && checkpointFailure != null) this.refuse(checkpointFailure);
    return this.reason;
  }

  /** Says, once per log, that the store refuses (the first error said is the one shown). */
  sayOnce(error: unknown): void {
    if (this.said) return;
    this.said = true;
    const why = error instanceof Error ? error.message : String(error);
    const position = error instanceof AuditStoreError ? error.position : null;
    const file = this.store instanceof FileAuditStore ? this.store.file : null;
    console.error(AuditFindingMessages.storeRefuses(this.store.description, why, position, file));
  }

  /** The error an append refused for `reason` rejects with. */
  error(): AuditStoreError {
    const reason = this.reason;
    const why = reason instanceof Error ? reason.message : String(reason);
    return new AuditStoreError(null, AuditMessages.logFailed(why), { cause: reason });
  }
}
