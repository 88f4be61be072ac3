/** What the remote audit reader says when a gateway will not show its audit trail. Never the key. */
export const RemoteAuditMessages = {
  refused: (where: string, detail: string | null) =>
    `the gateway refused to show its audit trail to this API key (403 from ${where})` +
    (detail === null ? '' : `: ${detail}`) +
    '. Reading gateway.audit needs a key of the tenant whose trail it is, with a role the ' +
    "gateway lets read the audit (our gateway server: 'agent' or 'reviewer'; a gateway that " +
    "keeps the audit from agents: a 'reviewer' key). Set apiKey / PROVENANCE_API_KEY to such a key.",
  noAuditApi: (where: string) =>
    `the gateway has no audit API (404 from ${where}): gateway.audit in remote mode needs a ` +
    'nestjs-provenance gateway server (GET /v1/audit, /v1/audit/count/{tenant}, ' +
    '/v1/audit/integrity/{tenant})',
  noTenant: (where: string) =>
    `the gateway's audit listing (${where}) did not say whose trail it is (no \`tenant_id\`)`,
};
