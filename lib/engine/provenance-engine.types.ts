import type { EscalationTicket } from '../protocol/gateway.types';
import type { AuditLog } from './audit/audit-log';
import type { EngineRecorder } from './engine-recorder';
import type { HoldEvent } from './escalation/escalation-holds';
import type { EscalationStore } from './escalation/escalation-store';
import type { GrantStore } from './grants/grant-store';
import type { IdempotencyStore } from './idempotency-store';
import type { CompiledPolicy } from './policy/policy.types';

export interface ProvenanceEngineOptions {
  policy: CompiledPolicy;
  /** Where decisions are recorded. The gateway closes it on close(). */
  audit: AuditLog;
  /** How long an escalated call waits for a human. Default 60 000 (the reference server's). */
  escalationTimeoutMs?: number;
  /** Recorded in every event and escalation. Default 'local'. */
  tenantId?: string;
  /** How many calls may be held for a human at once; one more is refused (EscalationLimitError). Default 10 000. */
  maxPendingEscalations?: number;
  /** How many idempotency keys are remembered (least recently used go first). Default 10 000. */
  idempotencyCacheSize?: number;
  /**
   * Where held calls, grants and idempotency keys live, when not in this
   * process (a database shared by replicas: lib/postgres). Called once by
   * the constructor; what it leaves out stays in memory.
   */
  stores?: (context: EngineStoreContext) => EngineStores;
  /** A reload to a policy with no rules is refused unless this is true (as at start-up). Default false. */
  allowEmptyPolicy?: boolean;
  /** Reload the policy when its file changes; needs a policy loaded from a file. Default false. */
  watchPolicy?: boolean;
  /** Evaluated beside the enforced policy on every call, never enforced. Default none. */
  shadowPolicy?: CompiledPolicy | null;
  /** Where the watch and the shadow policy say things. Default console.warn. */
  log?: (message: string) => void;
}

/** What a store factory is given: the engine's tenant and the recorder its events go through. */
export interface EngineStoreContext {
  tenantId: string;
  recorder: EngineRecorder;
}

/** The engine's state, kept outside the process (all optional: memory is the default). */
export interface EngineStores {
  escalations?: EscalationStore;
  grants?: GrantStore;
  idempotency?: IdempotencyStore;
  /**
   * Called once by `close()`, last (after the holds ended, the calls in
   * flight were recorded and the audit log closed): releases what the
   * stores share, such as a replica's registration or a pool.
   */
  release?: () => Promise<void>;
}

export interface ExecuteHooks {
  /** Called once, at once, when the call is held for a human; a throw here is ignored. */
  onEscalated?(ticket: EscalationTicket): void;
}

/** One step of an escalation: pending, then exactly one of approved, rejected, expired. */
export type EscalationLifecycleEvent = HoldEvent;
export type EscalationLifecycleListener = (event: EscalationLifecycleEvent) => void;
