/** Messages of nestjs-provenance/testing (ProvenanceTestingModule and ProvenanceTestReviewer). */
export const TestingMessages = {
  badOption: (option: string, expected: string, got: unknown) =>
    `nestjs-provenance/testing: \`${option}\` must be ${expected}; got ${describeAnswer(got)}.`,
  nothingDecides: () =>
    'nestjs-provenance/testing: ProvenanceTestingModule.forRoot() needs `policy` (a policy file, ' +
    'a document or a compiled policy), `decide` (a function of action and parameters), or both.',
  remoteOption: (option: string) =>
    `nestjs-provenance/testing: \`${option}\` is not an option of ProvenanceTestingModule, which ` +
    'always runs the embedded engine with an in-memory audit log; leave it out (test a remote ' +
    'gateway with ProvenanceModule instead).',
  badDecideAnswer: (action: string, got: string) =>
    `nestjs-provenance/testing: \`decide\` answered ${got} for '${action}'; it must return ` +
    "'ALLOW', 'BLOCK', 'ESCALATE', { decision, reason? }, or undefined to let the policy decide. " +
    'The call was not allowed.',
  decidedByTest: (decision: string) => `${decision} by the test's decide()`,
  undecidedByTest: () =>
    "Not decided by the test's decide() and no policy was given: blocked by default",
  noEscalation: (what: string, waitedMs: number) =>
    `nestjs-provenance/testing: ${what} waited ${waitedMs} ms and no call was escalated. Was the ` +
    'call allowed or blocked by the policy instead, or not made (not awaited, not @Guarded)?',
  closed: (what: string) =>
    `nestjs-provenance/testing: ${what} cannot wait any more: the gateway closed.`,
} as const;

/** A value as an error message shows it: type and a short text, never a long dump. */
export function describeAnswer(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'object')
    return Array.isArray(value) ? 'an array' : 'an object without a valid decision';
  return `${typeof value} ${String(value)}`;
}
