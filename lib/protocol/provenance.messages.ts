import { ACTION_RULE, actionProblem } from './action';
import {
  describeTextProblem,
  escapeForbiddenCharacters,
  IDENTITY_RULE,
  identityProblem,
} from './identity';

/**
 * Every message a user of the Nest layer can read, in one place so that they
 * stay consistent and never include a secret. The engine keeps its own in
 * lib/engine/engine.messages.ts (it must not depend on this layer's wording).
 */
export const Messages = {
  missingGateway: () =>
    'nestjs-provenance has no gateway: set `gatewayUrl` (or PROVENANCE_GATEWAY_URL) to use a remote ' +
    'Provenance gateway, or set `policy` (or PROVENANCE_POLICY) to a policy file or object to use the ' +
    'embedded gateway.',
  missingAgentId: () =>
    'nestjs-provenance: `agentId` is required (set the agentId option or PROVENANCE_AGENT_ID): every ' +
    'audit event names the agent that acted.',
  missingApiKey: (url: string) =>
    `nestjs-provenance: \`apiKey\` is required to reach the gateway at ${url} (set the apiKey option or ` +
    'PROVENANCE_API_KEY).',
  badApiKey: () =>
    'nestjs-provenance: `apiKey` does not look like a Provenance key (expected pk_<env>_<body>, ' +
    'e.g. pk_live_...). The key itself is not shown.',
  badGatewayUrl: (value: string) =>
    `nestjs-provenance: \`gatewayUrl\` must be an http:// or https:// URL; got '${value}'.`,
  badOption: (option: string, expected: string, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be ${expected}; got ${describe(got)}.`,
  unknownOption: (option: string, known: readonly string[]) =>
    `nestjs-provenance: unknown option \`${option}\` (known options: ${known.join(', ')}).`,
  badSessionId: (option: string, value: unknown) =>
    `nestjs-provenance: \`${option}\` must be a session id of 1-128 characters from [A-Za-z0-9._:-]; got ${describe(value)}.`,
  badAction: (value: unknown) =>
    `nestjs-provenance: the action must be ${ACTION_RULE}, such as 'payments.initiate'; got ${describeAction(value)}.`,
  badIdentity: (option: string, value: unknown) =>
    `nestjs-provenance: \`${option}\` must be ${IDENTITY_RULE}; got ${describeIdentity(value)}.`,
  badParameters: (action: string, value: unknown) =>
    `nestjs-provenance: parameters of '${action}' must be a plain object (or null/undefined); got ${describe(value)}.`,
  deferredIdempotencyKey: () =>
    'nestjs-provenance: `idempotencyKey` cannot be given to executeDeferred(): a deferred call is ' +
    'retried with execute() after the approval, and a key would answer that retry with the first ESCALATE.',
  finalEscalate: (action: string) =>
    `The gateway answered ESCALATE for '${action}' without a human decision: the escalation is still in progress.`,
  failedOpen: (action: string, target: string, why: string) =>
    `Gateway at ${target} failed (${why}); '${action}' ALLOWED because onGatewayError is 'open'.`,
  failedOpenReason: (why: string) => `Gateway unreachable (${why}); allowed by onGatewayError=open`,
  notInitialised: (where: string) =>
    `${where} is guarded by nestjs-provenance, but no ProvenanceModule is initialised in this process ` +
    '(import ProvenanceModule.forRoot() in your app module, or create a ProvenanceGateway). ' +
    'The method did not run.',
  ambiguousGateway: (where: string, count: number) =>
    `${where} is guarded, but ${count} Provenance gateways are running in this process and this ` +
    'instance is not managed by any of them; call it from within a request or a runInSession() of the ' +
    'gateway that should decide. The method did not run.',
  argumentsChanged: (action: string, decided: string, current: string) =>
    `'${action}' was decided for other arguments than it was about to run with ` +
    `(decided sha256 ${decided}, now ${current}): they changed after the decision, ` +
    'so the body did not run. Pass arguments that stay as they are until the call returns.',
  refusalNotRecorded: (reason: string, target: string) =>
    `${reason} The gateway at ${target} cannot record this refusal in its audit log.`,
  gatewayClosed: () => 'This ProvenanceGateway is closed; no call can be gated through it.',
  sessionSummary: (
    id: string,
    allowed: number,
    blocked: number,
    escalated: number,
    total: number,
  ) =>
    `session ${id}: ${total} call(s), ${allowed} allowed, ${blocked} blocked, ${escalated} escalated`,
} as const;

/**
 * Refusals of the one JSON walker (lib/protocol/canonical-json.ts), for call
 * parameters wherever they enter (the gateway service, the engine, the audit
 * log) and for canonicalJson itself. A problem is worded to follow its path:
 * `$.items[3] is NaN, which JSON cannot represent`.
 */
export const ParameterMessages = {
  /** With an action: the call is named and the ending says what did not happen. */
  refused: (action: string | null, path: string, problem: string, ending: string) =>
    action === null
      ? `${path} ${problem}`
      : `nestjs-provenance: parameters of '${action}' cannot be audited: ${path} ${problem}. ${ending}`,
  // ---- endings, by where the value was refused
  notSent: () => 'Nothing was sent.',
  notDecided: () => 'Nothing was decided or recorded.',
  notRecorded: () => 'Nothing was recorded.',
  // ---- problems
  notFinite: (value: number) => `is ${String(value)}, which JSON cannot represent`,
  bigint: () => 'is a BigInt; pass it as a string or a number',
  fn: () => 'is a function',
  symbol: () => 'is a symbol',
  undefinedRoot: () => 'is undefined, which is not a JSON value (use null)',
  invalidDate: () => 'is an invalid Date',
  collection: (type: string) => `is a ${type}; convert it to an object or an array`,
  binary: () => 'is binary data; pass a string (e.g. base64) or a hash instead',
  promise: () => 'is a Promise; await it first',
  unreadable: (why: string) => `could not be read: ${why}`,
  toJsonThrew: (why: string) => `toJSON() threw: ${why}`,
  toJsonLoop: (limit: number) =>
    `has a toJSON() that keeps returning objects with a toJSON() (more than ${limit} in a row)`,
  cycle: () => 'is a circular reference (a cycle): it refers back to an enclosing object',
  tooDeep: (limit: number) => `is nested more than ${limit} levels deep`,
  tooLarge: (max: number) => `is larger than maxParametersBytes (${max} bytes of JSON)`,
  notAnObject: () => 'is not an object once converted to JSON (parameters are an object or null)',
} as const;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return `'${escapeForbiddenCharacters(value.length > 80 ? `${value.slice(0, 77)}...` : value)}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** describe(), and what breaks the action rule (its length and the limit, a control character). */
function describeAction(value: unknown): string {
  const problem = typeof value === 'string' ? actionProblem(value) : null;
  return problem === null
    ? describe(value)
    : `${describe(value)} (it ${describeTextProblem(problem)})`;
}

/** describe(), and what breaks the identity rule. */
function describeIdentity(value: unknown): string {
  const problem = typeof value === 'string' ? identityProblem(value) : null;
  return problem === null
    ? describe(value)
    : `${describe(value)} (it ${describeTextProblem(problem)})`;
}

/** Messages of @Guarded, gateway.guard(), the HTTP session binding and the exception filter. */
export const GuardedMessages = {
  notAMethod: (where: string) =>
    `nestjs-provenance: @Guarded can only decorate a method, and ${where} is not one (a getter, ` +
    'setter or field). Guard the method that acts instead.',
  guardedTwice: (where: string) =>
    `nestjs-provenance: ${where} is already @Guarded; a second @Guarded would gate every call twice.`,
  unknownReturn: (where: string) =>
    `nestjs-provenance: @Guarded cannot tell whether ${where} returns a Promise or an Observable. ` +
    "Make it async, declare its return type (`: Promise<T>` or `: Observable<T>`), or pass `{ returns: 'observable' }`.",
  badGuardedOption: (where: string, option: string, expected: string, got: unknown) =>
    `nestjs-provenance: option \`${option}\` of @Guarded on ${where} must be ${expected}; got ${describe(got)}.`,
  badGuardAction: (value: unknown) =>
    `nestjs-provenance: gateway.guard(action) needs an action such as 'email.send' (${ACTION_RULE}); got ${describeAction(value)}.`,
  notAFunction: (action: string, value: unknown) =>
    `nestjs-provenance: gateway.guard('${action}') wraps a function; got ${describe(value)}.`,
  cannotBind: (provider: string, why: string) =>
    `${provider} has @Guarded methods but is ${why}, so it cannot be tied to this app's gateway at ` +
    'start-up. Its calls use the gateway of the current request or runInSession(), or the only ' +
    'gateway in the process, and fail if that is ambiguous.',
  blockedResponse: (action: string) => `The action '${action}' was blocked by policy.`,
  expiredResponse: (action: string) =>
    `The action '${action}' needed a human decision and none came in time; it did not run.`,
  gatewayUnavailableResponse: () => 'The policy gateway could not decide; the action did not run.',
} as const;

/** Messages of ProvenanceReviewer. */
export const ReviewerMessages = {
  badOption: (option: string, expected: string, got: unknown) =>
    `nestjs-provenance: \`${option}\` must be ${expected}; got ${describe(got)}.`,
  badApprover: (verb: string, value: unknown) =>
    `nestjs-provenance: reviewer.${verb}() needs \`approverId\`, naming the human who decides: ${IDENTITY_RULE}; got ${describeIdentity(value)}.`,
  badEscalationId: (verb: string, value: unknown) =>
    `nestjs-provenance: reviewer.${verb}() needs an escalation id (a non-empty string); got ${describe(value)}.`,
  badReason: (verb: string, value: unknown) =>
    `nestjs-provenance: the \`reason\` of reviewer.${verb}() must be a string or null; got ${describe(value)}.`,
} as const;

/**
 * What the gateway server answers (docs/protocol.md wording where the reference
 * server has one) and prints. None of them contains an API key.
 */
export const ServerMessages = {
  emptyPolicyAllowed: (tenantId: string) =>
    `allowEmptyPolicy is set and tenant '${tenantId}' has a policy with no rules: EVERY call of this tenant is ALLOWed ("No rule matched; default ALLOW")`,
  notAuthenticated: () => 'Not authenticated',
  invalidKey: () => 'Invalid api-key or revoked api-key.',
  invalidDecision: () => 'Invalid decision. Use: APPROVE | REJECT',
  escalationNotFound: (id: string) => `Escalation '${clip(id)}' not found or already resolved`,
  escalationUnknown: (id: string) => `Escalation '${clip(id)}' not found`,
  otherTenant: (tenantId: string) =>
    `This API key belongs to another tenant and cannot read tenant '${clip(tenantId)}'.`,
  tenantPolicyNotFound: () => 'tenant_policy_id not found',
  bodyTooLarge: (limit: number) => `Request body is too large (limit ${limit} bytes).`,
  notFound: () => 'Not Found',
  methodNotAllowed: () => 'Method Not Allowed',
  internal: () => 'The gateway could not decide or record this call; nothing was allowed.',
  unavailable: () => 'The gateway is shutting down.',
  badServerOption: (option: string, expected: string, got: unknown) =>
    `nestjs-provenance server: \`${option}\` must be ${expected}; got ${describe(got)}.`,
  noKeys: () =>
    'nestjs-provenance server: `keys` must list at least one API key ({ key, tenantId, policy }); ' +
    'generate one with generateApiKey().',
  badKey: (index: number) =>
    `nestjs-provenance server: keys[${index}].key does not look like a Provenance key ` +
    '(pk_<env>_<at least 8 url-safe characters>). The key itself is not shown.',
  duplicateKey: (index: number) =>
    `nestjs-provenance server: keys[${index}] repeats an earlier key. The key itself is not shown.`,
  tenantPolicyClash: (tenantId: string, index: number) =>
    `nestjs-provenance server: keys[${index}] gives tenant '${tenantId}' another policy than an ` +
    'earlier key; each tenant has one policy (and one audit chain) on this server.',
  badEnvApiKey: () =>
    'PROVENANCE_API_KEY does not look like a Provenance key (pk_<env>_<at least 8 url-safe characters>); ' +
    'unset it to have one generated. The key itself is not shown.',
  // Roles of the server's keys (lib/server/roles.ts, docs/server.md "Roles"). Never the key itself.
  wrongRole: (role: string, needed: readonly string[]) =>
    `This API key has the role '${role}'; this route needs ${needed.map((r) => `'${r}'`).join(' or ')} ` +
    `(an agent key raises and waits on escalations, a reviewer key lists and decides them).`,
  approverNotPrincipal: (principal: string) =>
    `This reviewer key decides as '${clip(principal)}': leave approver_id out, or give exactly that; ` +
    'a decision is recorded in the name of the credential that made it.',
  agentNotBound: (bound: string, asked: string) =>
    `This API key acts as agent '${clip(bound)}' and cannot act as agent '${clip(asked)}'.`,
  keysAndApiKeys: () =>
    'nestjs-provenance server: give the key list as `keys` or as `apiKeys` (another name for it), not both.',
  reviewerTenantWithoutPolicy: (index: number, tenantId: string) =>
    `nestjs-provenance server: keys[${index}] is a reviewer key of tenant '${clip(tenantId)}', but no ` +
    'key of that tenant gives a policy; add an agent key { key, tenantId, policy } for it.',
  reviewAnyKeyInsecure: () =>
    "reviewAnyKey is set: INSECURE. Every API key, the agents' own included, may list escalations and " +
    "decide them in whatever approver_id its body names (the reference server's behaviour); an agent can " +
    'approve its own escalated calls. Use reviewer keys ({ role: "reviewer", principal }) instead.',
  reviewerEnvPair: () =>
    'PROVENANCE_REVIEWER_API_KEY and PROVENANCE_REVIEWER_ID go together (the reviewer key and the principal ' +
    'it decides as): set both, or neither. The key itself is not shown.',
  reviewerKeyIsAgentKey: () =>
    'PROVENANCE_REVIEWER_API_KEY is the same key as PROVENANCE_API_KEY: a reviewer needs a key of its own ' +
    '(an agent key can never decide). The key itself is not shown.',
  badEnvReviewerKey: () =>
    'PROVENANCE_REVIEWER_API_KEY does not look like a Provenance key (pk_<env>_<at least 8 url-safe ' +
    'characters>). The key itself is not shown.',
  noReviewerKey: () =>
    'No reviewer key: POST /v1/escalations/{id}/decide (and the escalation lists) is refused for every key. ' +
    'Set PROVENANCE_REVIEWER_API_KEY (e.g. a second generated key) and PROVENANCE_REVIEWER_ID (who decides, ' +
    'e.g. cfo@example.com) to add one.',
  started: (url: string) => `Provenance gateway listening on ${url}`,
  builtInPolicy: (looked: string) =>
    `No policy file at ${looked}: using the built-in deny-by-default policy (every action BLOCKed). ` +
    'Set PROVENANCE_POLICY to a policy file.',
} as const;

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
