import type { AuditEvent, AuditVerification, ProvenanceGateway } from '../../lib';

/** What the sample reads of the embedded gateway's audit log. */
export interface AuditReader {
  list(query: { sessionId?: string; limit?: number }): Promise<AuditEvent[]>;
  verify(): Promise<AuditVerification>;
}

/**
 * The audit log of the gateway that decides for this app, or null when a
 * remote gateway decides (its log lives on that server: GET /v1/audit/...).
 */
export function auditReaderOf(gateway: ProvenanceGateway): AuditReader | null {
  // TEMPORARY until the library exposes the embedded audit log publicly.
  const embedded = (gateway.gatewayTransport as unknown as { gateway?: { audit?: AuditReader } })
    .gateway;
  return embedded?.audit ?? null;
}
