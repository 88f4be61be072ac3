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
  refused: () => 'This call was refused before it ran.',
} as const;
