import type { KeyObject } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import type { CompiledPolicy, PolicyDocument } from '../engine/policy/policy.types';
import type { NotifyTarget } from '../notify/notify-options';
import type { PostgresSetting } from '../postgres/postgres-options';

/**
 * One API key of the server: who may call, as which tenant, under which
 * policy. Give the key itself (`key`, hashed at start-up and then dropped) or
 * only its digest (`prefix` + `sha256`), so that no clear key has to sit in
 * your configuration.
 */
export interface GatewayServerApiKey {
  /** `pk_<env>_<body>`, e.g. from `generateApiKey()`. */
  key?: string;
  /** `pk_<env>_<first 8 characters of the body>`, with `sha256`, instead of `key`. */
  prefix?: string;
  /** Hex SHA-256 of the whole key, with `prefix`, instead of `key`. */
  sha256?: string;
  /** The tenant this key acts for: its audit chain, its escalations. */
  tenantId: string;
  /**
   * The tenant's policy: a file path (YAML or JSON), a document, or a compiled
   * policy. Required for an agent key; a reviewer key may leave it out (it
   * reviews under its tenant's policy, given by the tenant's agent keys).
   */
  policy?: string | PolicyDocument | CompiledPolicy;
  /**
   * The key's scope, as a request's `tenant_policy_id` may name it. A request
   * naming another id is answered BLOCK "tenant_policy_id not found", as the
   * reference server does. Default: the tenant id.
   */
  policyId?: string;
  /**
   * What the key may do (docs/server.md, "Roles"): `agent` (default) calls
   * `POST /v1/gateway/execute` and waits on its escalations; `reviewer` lists
   * and decides escalations. Neither may do the other's part.
   */
  role?: GatewayServerKeyRole;
  /**
   * Reviewer keys only, and required for them: who decides with this key. A
   * decision is recorded as this principal's; a body `approver_id` naming
   * anyone else is refused (403).
   */
  principal?: string;
  /**
   * Agent keys only, optional: the one `agent_id` this key may act as. An
   * execute naming another agent is refused (403), so an agent cannot write
   * another agent's name into the audit trail. Unset: any `agent_id`.
   */
  agentId?: string;
}

/** The role of a server API key: see `GatewayServerApiKey.role`. */
export type GatewayServerKeyRole = 'agent' | 'reviewer';

export interface GatewayServerAuditOptions {
  /** `file` (default): one JSON-lines file per tenant; `memory`: lost on exit. */
  store?: 'file' | 'memory';
  /** Folder of the per-tenant files `<tenantId>.audit.jsonl`. Default `.provenance`. */
  dir?: string;
  /** fsync each batch before answering. Default true. */
  durable?: boolean;
  /**
   * Ed25519 private key that signs checkpoints of every tenant's log (PEM
   * text, a PEM file path, or a KeyObject; docs/audit.md). `npm run gateway`
   * reads PROVENANCE_AUDIT_SIGNING_KEY. Default: no checkpoints.
   */
  signingKey?: string | KeyObject;
}

/** Options of `ProvenanceGatewayServerModule.forRoot()` and `createGatewayServer()`. */
export interface ProvenanceGatewayServerOptions {
  /** The API keys; at least one. (`apiKeys` is another name for this list; give one of the two.) */
  keys?: GatewayServerApiKey[];
  /** Another name for `keys` (the name the security issue used); giving both is refused. */
  apiKeys?: GatewayServerApiKey[];
  /**
   * INSECURE, the reference server's behaviour: any key (agent keys included)
   * may list escalations and decide them in whatever `approver_id` its body
   * names, so an agent can approve its own calls. Reviewer keys stay bound to
   * their principal. Logged as a warning at start-up. Default false.
   */
  reviewAnyKey?: boolean;
  /** How long an escalated call is held for a human, in ms. Default 60 000 (the reference server's). */
  escalationTimeoutMs?: number;
  audit?: GatewayServerAuditOptions;
  /**
   * Every tenant's state (audit chain, escalations, grants, idempotency keys)
   * in PostgreSQL, shared by every server that names the same database and
   * schema: `{ connectionString }` or `{ pool }` (yours, never ended), with
   * `schema` (default `provenance`), `migrate` (default true) and
   * `maxConnections`. `true`, or neither connectionString nor pool: the
   * connection is PROVENANCE_DATABASE_URL. `audit` may then not name a
   * store, folder or signing key. `npm run gateway` turns it on when
   * PROVENANCE_DATABASE_URL is set. Default: off (the audit files).
   */
  postgres?: PostgresSetting;
  /** Largest request body, in bytes; larger ones get 413. Default 1 MiB + 64 KiB. */
  maxBodyBytes?: number;
  /** Longest hold of one `GET /v1/escalations/{id}/wait`, in ms. Default 60 000. */
  maxWaitMs?: number;
  /**
   * A policy with no rules lets every call through (the reference server's
   * behaviour: "No rule matched; default ALLOW"). The server refuses to start
   * on one unless this is true, and says so in its log when it is. Default false.
   */
  allowEmptyPolicy?: boolean;
  /**
   * How many calls each tenant may have held for a human at once; one more is
   * answered 429 (and never allowed). Default 10 000.
   */
  maxPendingEscalations?: number;
  /** Where start-up and failure lines go. Default: Nest's Logger with context `ProvenanceGatewayServer`. */
  logger?: LoggerService;
  /**
   * Escalation webhooks, as the client's `notify` (docs/webhooks.md): each
   * tenant's pending and ended escalations, signed, with `tenant` its id; in
   * the background, never delaying a decision. The standalone gateway reads
   * PROVENANCE_NOTIFY_URL and PROVENANCE_NOTIFY_SECRET. Default: none.
   */
  notify?: NotifyTarget[];
}

/**
 * 1 MiB of parameters (the clients' default `maxParametersBytes`) plus room
 * for the rest of the body, so that every call a client accepts fits.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024 + 64 * 1024;
export const DEFAULT_MAX_WAIT_MS = 60_000;
export const DEFAULT_AUDIT_DIR = '.provenance';
