/** The texts of client-mode.ts: options that cannot go together. */
export const ClientModeMessages = {
  remoteWithEmbedded: (option: string, setBy: string) =>
    `gatewayUrl and ${option} cannot go together: with gatewayUrl the remote gateway decides ` +
    `and keeps the audit trail, so ${option} (${setBy}) would be silently ignored. Remove ` +
    `${option} to use the remote gateway, or remove gatewayUrl (and PROVENANCE_GATEWAY_URL) ` +
    'to use the embedded one.',
  setByOption: () => 'set as an option',
  setByEnv: (env: string) => `set by ${env}`,
};
