/** The texts of the framework adapters, in one place. What reaches a model never names a URL. */
export const AdapterMessages = {
  badAction: (toolName: string, got: unknown) =>
    `actions must give tool '${toolName}' a policy action (a non-empty string); got ${typeof got === 'string' ? `'${got}'` : String(got)}`,
  aborted: (action: string) =>
    `the call of '${action}' was aborted before it was decided; its escalation, if any, is withdrawn`,
  noAnswer: (action: string) =>
    `the gateway gave no final answer for '${action}'; the tool did not run`,
  gatewayFailed: () =>
    'The policy gateway could not decide this call, so the tool did not run. Try again later.',
  badApprovals: (got: unknown) =>
    `approvals must be 'held' or 'deferred'; got ${typeof got === 'string' ? `'${got}'` : String(got)}`,
  refused: () => 'This call was refused before it ran.',
  /** The reason the model reads when a resumed deferred call was not approved (a new escalation, withdrawn at once). */
  notApproved: () =>
    'no reviewer approved this call (no approval was recorded for it, or it expired), so it was not held and did not run',
} as const;
