/** What the health indicator reports when Provenance is down. */
export const HealthMessages = {
  storeRefuses: (why: string) => `the audit store refuses appends: ${why}`,
  storeUnopened: (why: string) => `the audit store cannot be opened: ${why}`,
  gatewayUnreachable: (target: string, why: string) =>
    `the gateway (${target}) did not answer GET /health: ${why}`,
  gatewayUnhealthy: (target: string, status: number) =>
    `the gateway (${target}) answered GET /health with ${status}`,
  pendingUnread: (why: string) => `the engine could not list its pending escalations: ${why}`,
  timedOut: (target: string, ms: number) =>
    `the gateway (${target}) did not answer within ${ms} ms`,
  badTimeout: (got: unknown) =>
    `timeoutMs must be a positive number of milliseconds (got ${String(got)})`,
} as const;
