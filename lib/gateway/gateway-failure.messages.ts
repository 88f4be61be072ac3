/** What the gateway service says in its log when calls fail for want of a decision. */
export const GatewayFailureMessages = {
  /** A store refusal (the innermost AuditStoreError's message names the file and position). */
  storeRefuses: (why: string) =>
    `The audit store refuses to record, so every gated call fails (logged once): ${why}`,
  /** Any other GatewayError: why a call was answered "could not decide" (503). */
  couldNotDecide: (target: string, kind: string, status: number | null, why: string) =>
    `Gated calls fail: the gateway (${target}) could not decide (${kind}` +
    `${status === null ? '' : `, HTTP ${status}`}): ${why}. ` +
    'Said once per distinct cause; each call that fails for it raises GatewayError.',
  /** Too many distinct causes to list: the rest are not logged. */
  tooManyCauses: (limit: number) =>
    `More than ${limit} distinct gateway failures; later distinct causes are not logged.`,
} as const;
