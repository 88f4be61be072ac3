/** The start-up banner and the policy coverage report (docs/configuration.md, docs/policy.md "Coverage"). */
export const StartupMessages = {
  embeddedBanner: (
    agentId: string,
    policy: string,
    hash: string,
    version: string | null,
    audit: string,
    tenant: string,
  ) =>
    `nestjs-provenance: embedded gateway; agent ${agentId}; policy ${policy} ` +
    `(sha256 ${hash}, version ${version ?? 'none'}); audit ${audit}; tenant ${tenant}`,
  remoteBanner: (agentId: string, gatewayUrl: string, tenantPolicyId: string | null) =>
    `nestjs-provenance: remote gateway ${gatewayUrl}; agent ${agentId}; tenant policy ` +
    `${tenantPolicyId ?? '(from the API key)'}; the policy and the audit trail are the gateway's`,
  givenTransportBanner: (agentId: string, kind: string, target: string) =>
    `nestjs-provenance: ${kind} transport given by the application (${target}); agent ${agentId}`,

  auditFile: (path: string) => `file ${path}`,
  auditMemory: () => 'memory (lost on exit)',
  auditCustom: (name: string) => `custom store ${name}`,
  auditPostgres: (where: string, schema: string) => `postgres ${where} (schema ${schema})`,
  applicationPool: () => 'a pg.Pool of the application',

  uncoveredWarning: (what: string, policy: string, actions: string) =>
    `Policy coverage: no rule of policy ${policy} names these actions of ${what}, so the ` +
    `default ALLOW or a catch-all decides them: ${actions}. Add a rule for each ` +
    "(policyCoverage: 'strict' refuses to start, 'off' silences this).",
  uncoveredRefused: (what: string, policy: string, actions: string) =>
    `policyCoverage is 'strict' and no rule of policy ${policy} names these actions of ${what} ` +
    `(the default ALLOW or a catch-all would decide them): ${actions}. Add a rule for each, ` +
    "or set policyCoverage to 'warn'.",
  fallsToDefault: (action: string) => `${action} (default)`,
  fallsToCatchAll: (action: string, ruleIndex: number, glob: string) =>
    `${action} (catch-all rules[${ruleIndex}] '${glob}')`,
};
