// The engine's public surface: plain TypeScript, no Nest, no rxjs.
export * from './policy';
export {
  canonicalJson,
  payloadHash,
  pythonFloatRepr,
  sha256Hex,
  MAX_CANONICAL_DEPTH,
} from '../protocol/canonical-json';
export { CanonicalJsonError, AuditStoreError } from './audit/audit.errors';
export {
  AUDIT_EVENT_KINDS,
  GENESIS_HASH,
  computeEventHash,
  type AuditEvent,
  type AuditEventInput,
  type AuditEventKind,
} from './audit/audit-event';
export {
  isAuditEventShape,
  verifyChain,
  type AuditAnchor,
  type AuditProblem,
  type AuditVerification,
  type AuditViolation,
} from './audit/audit-chain';
export type { AuditStore, AuditStoreContents } from './audit/audit-store';
export { MemoryAuditStore } from './audit/audit-log.memory-store';
export {
  DEFAULT_AUDIT_FILE,
  FileAuditStore,
  anchorPathFor,
  readAuditFile,
  type FileAuditStoreOptions,
} from './audit/audit-log.file-store';
export { AuditLog, type AuditLogOptions, type AuditQuery } from './audit/audit-log';
export {
  EscalationHolds,
  MAX_HOLD_MS,
  type EscalationHoldsOptions,
  type HoldDecisionInput,
  type HoldEvent,
  type HoldEventType,
  type HoldListener,
  type HoldOutcome,
  type HoldStatus,
  type HoldTicket,
} from './escalation/escalation-holds';
export { ProvenanceEngine } from './provenance-engine';
// The policy lifecycle (docs/policy.md: "Hot reload", "Shadow mode")
export type { PolicyIdentityOf, PolicyReload, PolicySource } from './policy/policy-in-force';
export type { ShadowExample, ShadowReport, ShadowSide } from './policy/shadow-policy';
/** @deprecated since 0.2: the in-process engine is `ProvenanceEngine`. */
export { ProvenanceEngine as EmbeddedGateway } from './provenance-engine';
export type {
  ProvenanceEngineOptions,
  /** @deprecated since 0.2: use `ProvenanceEngineOptions`. */
  ProvenanceEngineOptions as EmbeddedGatewayOptions,
  EscalationLifecycleEvent,
  EscalationLifecycleListener,
  ExecuteHooks,
} from './provenance-engine.types';
