/** Messages of ProvenanceReviewer about the gateway it was given. */
export const EscalationMessages = {
  /** The injected gateway is a test double (overrideProvider) that has no transport to review on. */
  noTransport: (what: string) =>
    `nestjs-provenance: ProvenanceReviewer.${what} needs the gateway's transport, and the injected ` +
    'ProvenanceGateway has none (a test double given with overrideProvider?). Override ' +
    'ProvenanceReviewer as well, or use ProvenanceTestingModule from nestjs-provenance/testing, ' +
    'which runs the real engine.',
} as const;
