import { KeyObject } from 'node:crypto';
import { notifyOptionProblem } from '../../notify/notify-options';
import { Messages } from '../../protocol/provenance.messages';
import { identityProblem } from '../../protocol/identity';
import { newSessionId } from '../../protocol/session-id';
import type {
  AuditOptions,
  ProvenanceClientOptions,
  ResolvedClientOptions,
} from '../provenance-client.options';
import {
  aBoolean,
  aFunction,
  aLogger,
  anAuditStore,
  anObject,
  aPolicySource,
  aPostgresSetting,
  aSecretString,
  aSessionId,
  aString,
  oneOf,
  positiveInteger,
} from './option-checks';
import type { OptionCheck, OptionTableOf } from './option-spec';

/**
 * The options of `ProvenanceClient`, one entry each: its doc (the same text
 * as on ProvenanceClientOptions, kept equal by a test), its environment
 * fallback, its check and its default. `resolveClientOptions` is a loop over
 * this table plus the rules that tie options together (the mode, the API key
 * an HTTP gateway needs: client-mode.ts). A new option is an entry here, a
 * field of ProvenanceClientOptions and one of ResolvedClientOptions; the
 * compiler refuses the table until all three agree.
 */

/** The identity rule (lib/protocol/identity.ts); blank is left to `required`, which says how to set it. */
const anIdentity: OptionCheck = (value, option) => {
  const problem = identityProblem(value);
  return problem === null || problem.kind === 'blank' ? null : Messages.badIdentity(option, value);
};

/** A private key: a string (PEM or a path; never shown, only its type) or a private KeyObject. */
const aSigningKey: OptionCheck = (value, option) =>
  typeof value === 'string' || (value instanceof KeyObject && value.type === 'private')
    ? null
    : Messages.badOption(
        option,
        'an Ed25519 private key (PEM text, the path of a PEM file, or a private KeyObject)',
        value instanceof KeyObject ? `a ${value.type} KeyObject` : typeof value,
      );

/** Every resolved field but `mode` is an option: a resolved field without an entry does not compile. */
type EveryResolvedFieldIsAnOption<T extends never> = T;
export type _ResolvedFieldsWithoutAnOption = EveryResolvedFieldIsAnOption<
  Exclude<keyof ResolvedClientOptions, 'mode' | keyof ProvenanceClientOptions>
>;

export const AUDIT_OPTION_SPECS: OptionTableOf<AuditOptions, ResolvedClientOptions['audit']> = {
  store: {
    doc:
      '`file` (default): an append-only JSON-lines file; `memory`: lost on exit, ' +
      'for tests; or your own `AuditStore` (a database table, an object store).',
    check: anAuditStore,
    default: 'file',
  },
  path: {
    doc: 'File store path. Default `.provenance/audit.jsonl` under the working directory.',
    check: aString,
    default: '.provenance/audit.jsonl',
  },
  durable: {
    doc: 'fsync each batch of appends before a decision is returned. Default true.',
    check: aBoolean,
    default: true,
  },
  signingKey: {
    doc:
      "Ed25519 private key that signs checkpoints of the log's head (PEM text, the path of a " +
      'PEM file, or a KeyObject; see docs/audit.md). Falls back to PROVENANCE_AUDIT_SIGNING_KEY. ' +
      'Default: no checkpoints.',
    env: 'PROVENANCE_AUDIT_SIGNING_KEY',
    check: aSigningKey,
    // undefined, not null: the resolved audit group stays { store, path, durable } when unset.
    default: undefined,
  },
};

export const CLIENT_OPTION_SPECS: OptionTableOf<ProvenanceClientOptions, ResolvedClientOptions> = {
  gatewayUrl: {
    doc:
      'Base URL of a Provenance gateway. Falls back to PROVENANCE_GATEWAY_URL. ' +
      'Without one, the embedded gateway decides.',
    env: 'PROVENANCE_GATEWAY_URL',
    check: aString,
    default: null,
  },
  agentId: {
    doc: "The agent's identity in audit logs. Falls back to PROVENANCE_AGENT_ID. Required.",
    env: 'PROVENANCE_AGENT_ID',
    check: anIdentity,
    required: Messages.missingAgentId,
  },
  apiKey: {
    doc:
      'API key scoped to a tenant policy (`pk_<env>_...`). Falls back to PROVENANCE_API_KEY. ' +
      'Required with gatewayUrl.',
    env: 'PROVENANCE_API_KEY',
    check: aSecretString,
    default: null,
  },
  onGatewayError: {
    doc:
      '`closed` (default): a gateway failure raises GatewayError. `open`: unreachable or 5xx ' +
      'lets the call through, with a warning.',
    check: oneOf('closed', 'open'),
    default: 'closed',
  },
  defaultSession: {
    doc:
      'Session id used when no session is current. Default: `sess_` + 16 hex characters, ' +
      'made once per client.',
    check: aSessionId,
    makeDefault: newSessionId,
  },
  timeout: {
    doc:
      "HTTP timeout per gateway request, in ms. Default 90 000: above the server's 60 s " +
      'escalation hold.',
    check: positiveInteger('milliseconds'),
    default: 90_000,
  },
  tenantPolicyId: {
    doc: 'Sent as tenant_policy_id; the server fills it from the API key when absent.',
    check: aString,
    default: null,
  },
  asyncEscalation: {
    doc:
      'Ask an HTTP gateway to answer escalations at once (202) so the escalation id is known ' +
      'early. Default true; harmless against a reference server.',
    check: aBoolean,
    default: true,
  },
  httpClient: {
    doc:
      "HTTP gateway: what sends the requests. `axios` (default): the HttpService's axios, with " +
      'its interceptors and proxy settings. `node`: node:http directly, less client CPU per ' +
      'call; no HttpService, interceptors or proxy.',
    check: oneOf('axios', 'node'),
    default: 'axios',
  },
  policy: {
    doc:
      'Embedded gateway: a policy file path (YAML or JSON), policy text (a string with a line ' +
      'break or starting with `{`), a policy document, or a compiled policy. Falls back to ' +
      'PROVENANCE_POLICY.',
    env: 'PROVENANCE_POLICY',
    check: aPolicySource,
    default: null,
  },
  escalationTimeout: {
    doc: 'Embedded gateway: how long an escalation is held for a human, in ms. Default 60 000.',
    check: positiveInteger('milliseconds'),
    default: 60_000,
  },
  maxPendingEscalations: {
    doc:
      'Embedded gateway: how many calls may be held for a human at once; one more is refused ' +
      'with EscalationLimitError. Default 10 000.',
    check: positiveInteger('calls'),
    default: 10_000,
  },
  audit: {
    doc: 'Embedded gateway: the audit store.',
    check: anObject,
    group: AUDIT_OPTION_SPECS,
  },
  watchPolicy: {
    doc:
      'Embedded gateway: reload the policy when its file changes (debounced; a file that fails ' +
      'validation is logged and the policy in force stays). Needs `policy` as a file path. ' +
      'Default false.',
    check: aBoolean,
    default: false,
  },
  shadowPolicy: {
    doc:
      'Embedded gateway: a candidate policy (a path, a document or a compiled policy) evaluated ' +
      'beside the enforced one on every call; where they disagree it is logged (once per action ' +
      'and change, then at 10, 100, ...) and counted in `gateway.shadowReport()`, never ' +
      'enforced. Default: none.',
    check: aPolicySource,
    default: null,
  },
  tenantId: {
    doc: 'Embedded gateway: the tenant id written into audit events. Default `local`.',
    check: aString,
    default: 'local',
  },
  postgres: {
    doc:
      'Embedded gateway: keep everything that is state (audit chain, escalations, grants, ' +
      'idempotency keys) in PostgreSQL, shared by every replica: `{ connectionString }` or ' +
      '`{ pool }` (yours, never ended), with `schema` (default `provenance`), `migrate` (default ' +
      'true) and `maxConnections` (default 10). `true`, or an object with neither connectionString ' +
      'nor pool, connects to PROVENANCE_DATABASE_URL; that variable alone does not turn postgres ' +
      'on. Default: off (the audit option applies).',
    // Only its shape here: the fields are checked, and the environment read, by
    // resolvePostgresOptions (client-postgres.ts), which names each field.
    check: aPostgresSetting,
    default: null,
  },
  maxParametersBytes: {
    doc:
      'Largest accepted parameters object, in bytes of JSON. Default 1 MiB. Larger calls are ' +
      'refused before anything is sent.',
    check: positiveInteger('bytes'),
    default: 1024 * 1024,
  },
  notify: {
    doc:
      'Escalation webhooks: each `{ url, secret, events?, timeout?, maxAttempts? }` is sent the ' +
      'pending and ended escalations of `escalations$` as JSON signed with HMAC-SHA256, in the ' +
      'background: a slow or dead receiver never delays a decision (docs/webhooks.md). ' +
      'Default: none.',
    // Each target's fields are checked here (`notify[0].url`); the secret is never shown.
    check: notifyOptionProblem,
    default: Object.freeze([]) as readonly [],
  },
  logger: {
    doc:
      "Where warnings go (fail-open, session summaries). Default: Nest's Logger with context " +
      '`Provenance`.',
    check: aLogger,
    // The gateway makes the Nest Logger: the client has no Nest dependency to spare.
    default: null,
  },
  redact: {
    doc:
      'Rewrites parameters before they appear in a log line (never in the audit log). ' +
      'Default: parameters are not logged.',
    check: aFunction,
    default: null,
  },
  allowEmptyPolicy: {
    doc:
      "A policy with no rules lets every call through (the reference server's behaviour). " +
      'The embedded engine refuses to start on one unless this is true. Default false.',
    check: aBoolean,
    default: false,
  },
  policyCoverage: {
    doc:
      'Embedded gateway: at start-up, the action of every guarded method and of every wrapped ' +
      'adapter tool must be matched by a rule other than a catch-all. `warn` (default) logs ' +
      'one line naming the others, `strict` refuses to start, `off` skips the check. Falls ' +
      'back to PROVENANCE_POLICY_COVERAGE. Not checked against a remote gateway.',
    env: 'PROVENANCE_POLICY_COVERAGE',
    check: oneOf('warn', 'strict', 'off'),
    default: 'warn',
  },
  reviewer: {
    doc:
      'Ignored by the client: an option of `ProvenanceModule.forRoot()` (see ' +
      'ProvenanceModuleOptions) or of `new ProvenanceReviewer(gateway, options)`.',
    deprecated:
      'nestjs-provenance: `reviewer` is not an option of ProvenanceClient or ProvenanceGateway, ' +
      'which ignore it: pass it to ProvenanceModule.forRoot() (typed ProvenanceModuleOptions) ' +
      'or to new ProvenanceReviewer(gateway, options).',
  },
};
