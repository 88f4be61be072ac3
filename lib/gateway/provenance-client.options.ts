import type { KeyObject } from 'node:crypto';
import type { HttpService } from '@nestjs/axios';
import type { LoggerService } from '@nestjs/common';
import type { AuditStore } from '../engine/audit/audit-store';
import type { CompiledPolicy, PolicyDocument } from '../engine/policy/policy.types';
import type { NotifyTarget } from '../notify/notify-options';
import type { PostgresSetting, ResolvedPostgresOptions } from '../postgres/postgres-options';
import type { GatewayTransport } from '../transport/gateway-transport';

/** Where the embedded gateway keeps its audit trail. */
export interface AuditOptions {
  /**
   * `file` (default): an append-only JSON-lines file; `memory`: lost on exit,
   * for tests; or your own `AuditStore` (a database table, an object store).
   */
  store?: 'file' | 'memory' | AuditStore;
  /** File store path. Default `.provenance/audit.jsonl` under the working directory. */
  path?: string;
  /** fsync each batch of appends before a decision is returned. Default true. */
  durable?: boolean;
  /**
   * Ed25519 private key that signs checkpoints of the log's head (PEM text, the
   * path of a PEM file, or a KeyObject; see docs/audit.md). Falls back to
   * PROVENANCE_AUDIT_SIGNING_KEY. Default: no checkpoints.
   */
  signingKey?: string | KeyObject;
}

/**
 * Options of `ProvenanceClient` and `ProvenanceGateway` (and, passed through,
 * of `ProvenanceModule.forRoot()`): the Python SDK's, in TypeScript casing,
 * plus the embedded gateway's. Times are in milliseconds. `undefined` and
 * `null` both mean "not set".
 *
 * Defaults, environment fallbacks and checks are in one table,
 * CLIENT_OPTION_SPECS (lib/gateway/options/client-option-specs.ts), whose
 * `doc` of each option is the comment here (a test keeps them equal).
 */
export interface ProvenanceClientOptions {
  /** Base URL of a Provenance gateway. Falls back to PROVENANCE_GATEWAY_URL. Without one, the embedded gateway decides. */
  gatewayUrl?: string;
  /** The agent's identity in audit logs. Falls back to PROVENANCE_AGENT_ID. Required. */
  agentId?: string;
  /** API key scoped to a tenant policy (`pk_<env>_...`). Falls back to PROVENANCE_API_KEY. Required with gatewayUrl. */
  apiKey?: string;
  /** `closed` (default): a gateway failure raises GatewayError. `open`: unreachable or 5xx lets the call through, with a warning. */
  onGatewayError?: 'closed' | 'open';
  /** Session id used when no session is current. Default: `sess_` + 16 hex characters, made once per client. */
  defaultSession?: string;
  /** HTTP timeout per gateway request, in ms. Default 90 000: above the server's 60 s escalation hold. */
  timeout?: number;
  /** Sent as tenant_policy_id; the server fills it from the API key when absent. */
  tenantPolicyId?: string;
  /** Ask an HTTP gateway to answer escalations at once (202) so the escalation id is known early. Default true; harmless against a reference server. */
  asyncEscalation?: boolean;
  /** HTTP gateway: what sends the requests. `axios` (default): the HttpService's axios, with its interceptors and proxy settings. `node`: node:http directly, less client CPU per call; no HttpService, interceptors or proxy. */
  httpClient?: 'axios' | 'node';

  /** Embedded gateway: a policy file path (YAML or JSON), policy text (a string with a line break or starting with `{`), a policy document, or a compiled policy. Falls back to PROVENANCE_POLICY. */
  policy?: string | PolicyDocument | CompiledPolicy;
  /** Embedded gateway: how long an escalation is held for a human, in ms. Default 60 000. */
  escalationTimeout?: number;
  /** Embedded gateway: how many calls may be held for a human at once; one more is refused with EscalationLimitError. Default 10 000. */
  maxPendingEscalations?: number;
  /** Embedded gateway: the audit store. */
  audit?: AuditOptions;
  /** Embedded gateway: reload the policy when its file changes (debounced; a file that fails validation is logged and the policy in force stays). Needs `policy` as a file path. Default false. */
  watchPolicy?: boolean;
  /** Embedded gateway: a candidate policy (a path, a document or a compiled policy) evaluated beside the enforced one on every call; where they disagree it is logged (once per action and change, then at 10, 100, ...) and counted in `gateway.shadowReport()`, never enforced. Default: none. */
  shadowPolicy?: string | PolicyDocument | CompiledPolicy;
  /** Embedded gateway: the tenant id written into audit events. Default `local`. */
  tenantId?: string;
  /**
   * Embedded gateway: keep everything that is state (audit chain, escalations, grants, idempotency keys) in PostgreSQL, shared by every replica: `{ connectionString }` or `{ pool }` (yours, never ended), with `schema` (default `provenance`), `migrate` (default true) and `maxConnections` (default 10). `true`, or an object with neither connectionString nor pool, connects to PROVENANCE_DATABASE_URL; that variable alone does not turn postgres on. Default: off (the audit option applies).
   */
  postgres?: PostgresSetting;
  /** Largest accepted parameters object, in bytes of JSON. Default 1 MiB. Larger calls are refused before anything is sent. */
  maxParametersBytes?: number;
  /** Escalation webhooks: each `{ url, secret, events?, timeout?, maxAttempts? }` is sent the pending and ended escalations of `escalations$` as JSON signed with HMAC-SHA256, in the background: a slow or dead receiver never delays a decision (docs/webhooks.md). Default: none. */
  notify?: NotifyTarget[];

  /** Where warnings go (fail-open, session summaries). Default: Nest's Logger with context `Provenance`. */
  logger?: LoggerService;
  /** Rewrites parameters before they appear in a log line (never in the audit log). Default: parameters are not logged. */
  redact?: (action: string, parameters: Record<string, unknown> | null) => unknown;
  /** A policy with no rules lets every call through (the reference server's behaviour). The embedded engine refuses to start on one unless this is true. Default false. */
  allowEmptyPolicy?: boolean;
  /** Embedded gateway: at start-up, the action of every guarded method and of every wrapped adapter tool must be matched by a rule other than a catch-all. `warn` (default) logs one line naming the others, `strict` refuses to start, `off` skips the check. Falls back to PROVENANCE_POLICY_COVERAGE. Not checked against a remote gateway. */
  policyCoverage?: 'warn' | 'strict' | 'off';

  /**
   * Ignored by the client: an option of `ProvenanceModule.forRoot()` (see ProvenanceModuleOptions) or of `new ProvenanceReviewer(gateway, options)`.
   * @deprecated Type the module's options as ProvenanceModuleOptions; the client warns once and ignores this.
   */
  reviewer?: { pollInterval?: number; tenantId?: string };
}

/** Lets tests and advanced users supply the pieces the client would otherwise build. */
export interface ProvenanceClientDeps {
  /** The HttpService to send requests with (Nest injects one from HttpModule). */
  httpService?: HttpService;
  /** A ready transport; bypasses gatewayUrl/policy. */
  transport?: GatewayTransport;
  /** Environment to read fallbacks from. Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface ResolvedClientOptions {
  mode: 'http' | 'embedded';
  gatewayUrl: string | null;
  agentId: string;
  apiKey: string | null;
  onGatewayError: 'closed' | 'open';
  defaultSession: string;
  timeout: number;
  tenantPolicyId: string | null;
  asyncEscalation: boolean;
  httpClient: 'axios' | 'node';
  policy: string | PolicyDocument | CompiledPolicy | null;
  escalationTimeout: number;
  maxPendingEscalations: number;
  audit: {
    store: 'file' | 'memory' | AuditStore;
    path: string;
    durable: boolean;
    signingKey: string | KeyObject | undefined;
  };
  watchPolicy: boolean;
  shadowPolicy: string | PolicyDocument | CompiledPolicy | null;
  tenantId: string;
  /** Checked, defaults filled; null when off. */
  postgres: ResolvedPostgresOptions | null;
  maxParametersBytes: number;
  notify: readonly NotifyTarget[];
  logger: LoggerService | null;
  redact: ((action: string, parameters: Record<string, unknown> | null) => unknown) | null;
  allowEmptyPolicy: boolean;
  policyCoverage: 'warn' | 'strict' | 'off';
}
