// The public API of nestjs-provenance. Anything not exported here is internal.

// Results, decisions and errors (the Python SDK's, in TypeScript casing)
export { Decision, isDecision } from './protocol/decision';
export { ExecutionResult, type ExecutionResultInit } from './protocol/execution-result';
export {
  ApprovalForbiddenError,
  ArgumentsChangedError,
  EscalationError,
  EscalationLimitError,
  EscalationNotFoundError,
  GrantNotFoundError,
  EscalationRejectedError,
  EscalationTimeoutError,
  GatewayClosedError,
  GatewayError,
  InvalidParametersError,
  PolicyBlockedError,
  ProvenanceConfigError,
  ProvenanceError,
  ReviewInputError,
  type GatewayErrorKind,
} from './protocol/provenance.errors';

// The Nest module
export { ProvenanceModule } from './module/provenance.module';
export { PROVENANCE_MODULE_OPTIONS } from './module/provenance.module-definition';
export type { ProvenanceModuleOptions } from './module/provenance-module.options';

// The gateway service and its client (also usable without Nest)
export { ProvenanceGateway, type GateCall } from './gateway/provenance.gateway';
export { ProvenanceClient } from './gateway/provenance.client';
export type {
  AuditOptions,
  ProvenanceClientDeps,
  ProvenanceClientOptions,
  ResolvedClientOptions,
} from './gateway/provenance-client.options';
export { MAX_PARAMETER_DEPTH } from './protocol/call-parameters';

// @Guarded and the function wrapper
export {
  Guarded,
  getGuardedMetadata,
  type GuardableMethod,
  type GuardedDecorator,
} from './guarded/guarded.decorator';
export type { GuardedOptions, GuardOptions, GuardedMetadata } from './call/guard.options';
export type { GuardedFunction } from './gateway/guard-function';
export {
  ProvenanceExceptionFilter,
  type ProvenanceErrorResponse,
} from './guarded/provenance-exception.filter';

// Sessions
export { ProvenanceSession, type ExecuteOptions } from './session/provenance.session';
export type { DeferredExecuteOptions } from './gateway/call-request';
export {
  ProvenanceSessionInterceptor,
  DEFAULT_SESSION_HEADER,
} from './module/provenance-session.interceptor';

// Escalations
export type { EscalationEvent, EscalationEventType } from './protocol/escalation-event';
export { escalationsWithPending$ } from './escalation/escalation.streams';
// Escalation webhooks, the `notify` option (docs/webhooks.md): the receiver's verification helper
export {
  DEFAULT_TOLERANCE_SECONDS,
  SIGNATURE_HEADER,
  signatureHeader,
  verifyWebhookSignature,
  webhookSignatureProblem,
  type VerifyWebhookOptions,
} from './notify/webhook-signature';
export { DELIVERY_HEADER, EVENT_HEADER } from './notify/webhook-delivery';
export type { NotifyTarget } from './notify/notify-options';
export type { WebhookBody, WebhookStats } from './notify/webhook-dispatcher';
export {
  ProvenanceReviewer,
  DEFAULT_REVIEWER_POLL_INTERVAL,
  type ProvenanceReviewerOptions,
} from './escalation/provenance.reviewer';

// The review page and its API, mounted in your app behind your authorize()
export { ProvenanceReviewModule } from './review/provenance-review.module';
export {
  DEFAULT_REVIEW_PATH,
  type ProvenanceReviewAuthOptions,
  type ProvenanceReviewModuleOptions,
  type ReviewAuthorize,
  type ReviewPrincipal,
  type ReviewRequest,
} from './review/review-module.options';

// The gateway server: the wire protocol served from the engine
export * from './server';

// State shared by replicas in PostgreSQL (`postgres` option; `pg` is loaded only when configured)
export * from './postgres';

// Transports
export {
  GatewayTransport,
  type PendingFilter,
  type TransportCallOptions,
} from './transport/gateway-transport';
export type {
  GrantCondition,
  GrantInput,
  GrantKind,
  GrantRecord,
  GrantStatus,
} from './protocol/grant.types';
export type {
  EscalationOutcome,
  EscalationRecord,
  EscalationStatus,
  EscalationTicket,
  GatewayEvent,
  GatewayRequest,
  GatewayResponse,
  ReviewInput,
  ReviewOutcome,
  ReviewVerdict,
} from './protocol/gateway.types';
export { HttpTransport } from './transport/http/http.transport';
// gateway.audit in both modes (docs/server.md, "The audit trail from a remote app")
export type { AuditReader } from './transport/audit-reader';
export { RemoteAuditReader } from './transport/http/remote-audit-reader';

// The engine (plain TypeScript): policy, canonical JSON, audit log and stores, escalation holds
export * from './engine';
export {
  createEngine,
  type BuiltEngine,
  type EngineAuditStore,
  type EngineSetup,
} from './engine/engine.factory';
export { EmbeddedTransport } from './transport/embedded/embedded.transport';
// Signed checkpoints of the audit log, and bundles for auditors (docs/audit.md)
export {
  signCheckpoint,
  verifyCheckpoints,
  type AuditCheckpoint,
  type CheckpointReason,
  type VerifyCheckpointsOptions,
} from './engine/audit/audit-checkpoints';
export type { AuditCheckpointOptions } from './engine/audit/audit-checkpoint-writer';
export {
  generateSigningKeyPair,
  keyIdOf,
  loadPublicKey,
  loadSigningKey,
  type AuditSigningKey,
} from './engine/audit/audit-signing';
export { createBundle, parseBundle, type AuditBundle } from './engine/audit/audit-bundle';
export { checkpointPathFor, readCheckpointFile } from './engine/audit/audit-log.file-store';
export type { AuditVerifyOptions } from './engine/audit/audit-log';
export type { CheckpointSummary } from './engine/audit/audit-chain';

// Names of 0.1, kept for one minor version.
export {
  /** @deprecated since 0.2: use `HttpTransport`. */
  HttpTransport as HttpGatewayTransport,
} from './transport/http/http.transport';
export {
  /** @deprecated since 0.2: use `EmbeddedTransport`. */
  EmbeddedTransport as EmbeddedGatewayTransport,
} from './transport/embedded/embedded.transport';
