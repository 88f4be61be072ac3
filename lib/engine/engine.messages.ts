/**
 * Every message the engine (lib/engine) shows a user, in one place so the
 * wording stays consistent and never carries a secret. One exported object
 * per area; add a new area at the end of the file rather than editing another.
 */

/** Policy documents: validation, evaluation reasons, lint findings. */
export const PolicyMessages = {
  // ---- evaluation reasons: docs/policy.md ("Reasons") fixes this wording
  defaultAllow: () => 'No rule matched; default ALLOW',
  ruleMatched: (glob: string) => `Rule matched: ${glob} | conditions satisfied`,
  conditionFailed: (field: string, operator: string, value: string, actual: string) =>
    `Condition failed: ${field} ${operator} ${value} failed (got ${actual})`,

  // ---- validation (the file and field path are prefixed by PolicyValidationError)
  readFailed: (why: string) => `cannot read the policy file: ${why}`,
  unsupportedExtension: (ext: string) =>
    `unsupported policy file extension '${ext}' (expected .yml, .yaml or .json)`,
  invalidYaml: (line: number | null, why: string) =>
    `invalid YAML${line === null ? '' : ` at line ${line}`}: ${why}`,
  invalidJson: (line: number | null, column: number | null, why: string) =>
    `invalid JSON${line === null ? '' : ` at line ${line}${column === null ? '' : `, column ${column}`}`}: ${why}`,
  notAnObject: (what: string, got: string) => `${what} must be a mapping (object); got ${got}`,
  notAString: (got: string) => `must be a string; got ${got}`,
  notANonEmptyString: (got: string) => `must be a non-empty string; got ${got}`,
  badVersion: (got: string) => `must be a string or a number; got ${got}`,
  missingRules: () =>
    "missing 'rules': a policy needs a list of rules (an empty list allows everything)",
  rulesNotArray: (got: string) => `must be a list of rules; got ${got}`,
  missingAction: () => "missing 'action': every rule needs an action glob such as 'payments.*'",
  badOutcome: (got: string) =>
    `must be one of ALLOW, BLOCK, ESCALATE (upper case, as on the wire); got ${got}`,
  conditionsNotArray: (got: string) => `must be a list of conditions; got ${got}`,
  missingField: () => "missing 'field': a condition names the parameter it tests",
  missingOperator: () =>
    "missing 'operator' (expected one of == != < > <= >= in not_in, or aliases eq ne lt gt le ge)",
  unknownOperator: (got: string) =>
    `unknown operator ${got} (expected one of == != < > <= >= in not_in, or aliases eq ne lt gt le ge)`,
  missingValue: () => "missing 'value' (write `value: null` to compare with null)",
  badMembershipValue: (operator: string, got: string) =>
    `'${operator}' needs a list (membership) or a string (substring); got ${got}`,
  neverDecides: () =>
    'the rule has neither on_match nor on_violation, so it could never decide; ' +
    'give it on_match and/or on_violation',

  // ---- lint findings
  emptyRules: () =>
    'the policy has no rules: every action is ALLOWed by default; add rules, ending with a ' +
    "catch-all (action: '*', on_match: BLOCK) to fail closed",
  emptyRulesRefused: () =>
    'the policy has no rules, so every call would be ALLOWed by default; add rules, ending with a ' +
    "catch-all (action: '*', on_match: BLOCK), or set allowEmptyPolicy: true if that is really wanted",
  noCatchAll: () =>
    "no catch-all rule (action: '*' with on_match and no conditions): actions that match no rule " +
    "are ALLOWed by default; end with action: '*', on_match: BLOCK to fail closed",
  shadowed: (byIndex: number, byGlob: string, glob: string) =>
    `unreachable: rules[${byIndex}] ('${byGlob}') decides every action that '${glob}' matches before this rule is reached`,
  violationWithoutConditions: () =>
    'on_violation can never apply to a rule without conditions, and there is no on_match: ' +
    'the rule never decides',
  unorderableValue: (operator: string, got: string) =>
    `'${operator}' compares only numbers with numbers and strings with strings; the value ${got} ` +
    'makes the condition fail for every input',
  mixedTypes: (field: string, types: readonly string[]) =>
    `field '${field}' is compared with values of different types (${types.join(', ')}) across ` +
    'conditions; a parameter has one type, so some of these conditions can never pass',
  unknownKey: (key: string, known: readonly string[]) =>
    `unknown key '${key}' is ignored (known keys: ${known.join(', ')})`,
  emptyMembership: (operator: string) =>
    `'${operator}' with an empty list: ${operator === 'in' ? 'never passes' : 'always passes'}`,
} as const;

/** The audit log: stores, verification. (Canonical JSON refusals: ParameterMessages in lib/protocol.) */
export const AuditMessages = {
  // ---- stores
  readFailed: (why: string) => `cannot read the audit log: ${why}`,
  writeFailed: (why: string) => `cannot write the audit log: ${why}`,
  damagedLine: (line: number, why: string) =>
    `line ${line} is not an audit event (${why}); the log is damaged or was edited. ` +
    'Run `provenance audit verify <file>` to see where; appends are refused until it is repaired',
  brokenTail: (position: number) =>
    `the last event (position ${position}) does not hash to its own hash; the log was edited. ` +
    'Run `provenance audit verify <file>`; appends are refused',
  headMismatch: (detail: string) =>
    `the log does not match its head anchor (${detail}): events were removed or rewritten. ` +
    'Run `provenance audit verify <file>`; appends are refused',
  storeClosed: () => 'the audit log is closed',
  notStoredNow: () => 'the audit store gave no answer to an event it was to store at once',
  logFailed: (why: string) =>
    `an earlier write to the audit log failed (${why}); no further event is accepted until the ` +
    'log is reopened',

  // ---- verification problems
  problemHash: () => 'the event does not hash to its recorded hash (a field was edited)',
  problemPrevHash: () =>
    "prevHash is not the previous event's hash (an event was removed, inserted or moved)",
  problemPosition: () => 'position out of sequence (an event was removed, inserted or moved)',
  problemMalformed: () => 'not a well-formed audit event',
  problemTruncated: () =>
    'the log ends before the position its head anchor records (events were removed from the end)',
  problemHeadHash: () =>
    'the event at the position its head anchor records has a different hash (the log was rewritten)',
} as const;

/** Escalation holds: a human decides within a deadline. */
export const EscalationMessages = {
  tooManyPending: (limit: number) =>
    `${limit} calls are already held for a human (maxPendingEscalations); this one is refused until some are decided`,
  closedReason: () => 'gateway closed',
  badTimeout: (got: string) =>
    `escalationTimeoutMs must be an integer number of milliseconds from 1 to 2147483647; got ${got}`,
  duplicateId: (id: string) => `an escalation with id '${id}' is already held`,
  listenerFailed: (why: string) => `an escalation listener threw (ignored): ${why}`,
} as const;

/** The embedded gateway: reasons it returns and requests it refuses. */
export const EmbeddedGatewayMessages = {
  // ---- reasons: docs/protocol.md ("Held escalation") fixes this wording
  approved: (approverId: string) => `Escalation APPROVED by ${approverId}`,
  rejected: () => 'Escalation REJECT — action blocked',
  expired: () => 'Escalation TIMEOUT — action blocked',
  withdrawn: () => 'Escalation WITHDRAWN — the caller stopped waiting; action blocked',
  approvedForRetry: (approverId: string, grantId: string) =>
    `Escalation APPROVED by ${approverId} after the caller stopped waiting: ` +
    `the identical call is allowed once more (single-use grant ${grantId})`,
  replayed: (eventId: string | null) =>
    `Idempotent replay of event ${eventId ?? '(none)'}: the first answer, not decided again`,
  selfApproval: (approverId: string) =>
    `'${approverId}' is the agent whose call this is and cannot approve it (four eyes): another reviewer must`,
  idempotencyConflict: () =>
    'idempotency_key was already used for a different call; blocked rather than answered twice',

  badField: (field: string, expected: string) => `${field} must be ${expected}`,
  closed: () => 'the embedded gateway is closed',
} as const;

export const GrantMessages = {
  notFound: (grantId: string) =>
    `No active grant with id '${grantId}' (unknown, revoked, used up or expired)`,
  tooMany: (limit: number) =>
    `This gateway already keeps ${limit} active grants; revoke some or let them expire before granting more`,
  badField: (field: string, expected: string, got: unknown) =>
    `grant.${field} must be ${expected}; got ${typeof got === 'string' ? `'${got}'` : String(got)}`,
  selfGrant: (principal: string) =>
    `'${principal}' cannot grant approvals for its own calls (four eyes): another reviewer must`,
  used: (grantId: string, grantedBy: string) => `Allowed by grant ${grantId} from ${grantedBy}`,
};

/** How an engine is put together from its stores. */
export const EngineMessages = {
  grantsWithoutEscalations: () =>
    'an engine given a grant store must also be given an escalation store: approvals of calls whose caller stopped waiting become grants in the escalation store',
  closeFailed: (why: string) => `the escalation store could not end its holds on close: ${why}`,
} as const;
