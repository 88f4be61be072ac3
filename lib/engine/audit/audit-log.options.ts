import type { AuditCheckpointOptions } from './audit-checkpoint-writer';
import type { AuditStore } from './audit-store';

export interface AuditVerifyOptions {
  /**
   * Also compare the store with the head this log holds in memory (its event
   * count and last hash): a shorter log swapped in, or an event this log never
   * wrote, is then found even when the store alone is consistent. The gateway
   * server's integrity route asks for it. Default false.
   */
  live?: boolean;
}

export interface AuditLogOptions {
  /** Where events go. Default: a MemoryAuditStore. */
  store?: AuditStore;
  /** Most events written (and fsynced) together. Default 1000. */
  maxBatch?: number;
  /**
   * Sign the log's head with an Ed25519 key every so many events or seconds,
   * at open and at close (docs/audit.md). The store must keep checkpoints.
   */
  checkpoints?: AuditCheckpointOptions;
  /**
   * Keep every event in memory for `list` and `count`. Default false: the log
   * keeps only its head and `list`/`count` read the store (`readEvents`; the
   * file store streams the file), so memory does not grow with the log;
   * `list` then shows what the store holds now (a file replaced behind the
   * log's back lists its new content; `verify({ live })` still reports the
   * swap). True keeps the earlier default (list/count from memory, the
   * log grows by every event). A store without `openHead`/`readEvents` is
   * always kept in memory.
   */
  retainEvents?: boolean;
}
