import type { AuditCheckpointOptions } from './audit/audit-checkpoint-writer';
import { AuditLog } from './audit/audit-log';
import { FileAuditStore } from './audit/audit-log.file-store';
import { MemoryAuditStore } from './audit/audit-log.memory-store';
import type { AuditStore } from './audit/audit-store';
import { assertPolicyDecides, compiledPolicyOf } from './policy/policy-in-force';
import type { CompiledPolicy, PolicyDocument } from './policy/policy.types';
import { ProvenanceEngine } from './provenance-engine';
import type { ProvenanceEngineOptions } from './provenance-engine.types';

/**
 * Where an engine records its decisions, and optionally the Ed25519 key that
 * signs checkpoints of the log's head (docs/audit.md).
 */
export type EngineAuditStore = (
  { store: 'memory' } | { store: 'file'; path: string; durable?: boolean } | { store: AuditStore }
) &
  EngineAuditSigning;

/** Signed checkpoints of an engine's audit log: off unless a key is given. */
export interface EngineAuditSigning {
  /** The private key: PEM text, the path of a PEM file, or a KeyObject. */
  signingKey?: AuditCheckpointOptions['signingKey'] | null;
  /** Sign after this many new events. Default 1000. */
  checkpointEveryEvents?: number;
  /** Sign this long after the first unsigned event, in ms. Default 60 000. */
  checkpointEveryMs?: number;
}

/** Everything an engine is built from. */
export interface EngineSetup {
  /** A policy file path (YAML or JSON), a document, or a compiled policy. */
  policy: string | PolicyDocument | CompiledPolicy;
  audit: EngineAuditStore;
  /** How long an escalated call waits for a human, in ms. Default 60 000. */
  escalationTimeoutMs?: number;
  /** Recorded in every event and escalation. Default `local`. */
  tenantId?: string;
  /** How many calls may be held for a human at once; one more is refused. Default 10 000. */
  maxPendingEscalations?: number;
  /**
   * A policy with no rules decides nothing, so every call falls through to the
   * default ALLOW (the reference server's behaviour). Refused unless this is
   * true. Default false.
   */
  allowEmptyPolicy?: boolean;
  /** Where held calls, grants and idempotency keys live when not in memory (see lib/postgres). */
  stores?: ProvenanceEngineOptions['stores'];
  /** How many idempotency keys an in-memory engine remembers. Default 10 000. */
  idempotencyCacheSize?: number;
  /** Reload the policy when its file changes (docs/policy.md, "Hot reload"). Default false. */
  watchPolicy?: boolean;
  /** A candidate policy evaluated beside the enforced one, never enforced (docs/policy.md, "Shadow mode"). */
  shadowPolicy?: string | PolicyDocument | CompiledPolicy | null;
  /** Where the watch and the shadow policy say things. Default console.warn. */
  log?: (message: string) => void;
}

/** An engine and the audit log it writes; the log is opened by its first use or by `audit.open()`. */
export interface BuiltEngine {
  engine: ProvenanceEngine;
  audit: AuditLog;
  policy: CompiledPolicy;
}

/**
 * The one place an engine is assembled, for the module, the gateway server
 * and tests alike: the policy is compiled (a bad one fails here, at
 * start-up), the safety checks run, and the audit store is chosen.
 */
export function createEngine(setup: EngineSetup): BuiltEngine {
  const policy = compiledPolicyOf(setup.policy);
  assertPolicyDecides(policy, setup.allowEmptyPolicy === true);
  const audit = new AuditLog({
    store: auditStoreOf(setup.audit),
    checkpoints: checkpointsOf(setup.audit, setup.tenantId ?? 'local'),
  });
  const engine = new ProvenanceEngine({
    policy,
    audit,
    escalationTimeoutMs: setup.escalationTimeoutMs,
    tenantId: setup.tenantId,
    maxPendingEscalations: setup.maxPendingEscalations,
    idempotencyCacheSize: setup.idempotencyCacheSize,
    stores: setup.stores,
    allowEmptyPolicy: setup.allowEmptyPolicy,
    watchPolicy: setup.watchPolicy,
    shadowPolicy:
      setup.shadowPolicy === undefined || setup.shadowPolicy === null
        ? null
        : compiledPolicyOf(setup.shadowPolicy),
    log: setup.log,
  });
  return { engine, audit, policy };
}

export { assertPolicyDecides, compiledPolicyOf } from './policy/policy-in-force';

function checkpointsOf(
  audit: EngineAuditSigning,
  tenantId: string,
): AuditCheckpointOptions | undefined {
  if (audit.signingKey === undefined || audit.signingKey === null) return undefined;
  return {
    signingKey: audit.signingKey,
    tenantId,
    everyEvents: audit.checkpointEveryEvents,
    everyMs: audit.checkpointEveryMs,
  };
}

function auditStoreOf(audit: EngineAuditStore): AuditStore {
  const { store } = audit;
  if (store === 'memory') return new MemoryAuditStore();
  if (store === 'file') {
    const file = audit as { path: string; durable?: boolean };
    return new FileAuditStore(file.path, { durable: file.durable ?? true });
  }
  return store;
}
