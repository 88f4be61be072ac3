/**
 * The texts of the `postgres` option's checks and of its wiring into the
 * module and the gateway server. Never a connection string: at most its
 * redacted form (redactConnectionString).
 */
export const PostgresOptionMessages = {
  badSetting: (option: string) =>
    `nestjs-provenance: \`${option}\` must be true (the connection from PROVENANCE_DATABASE_URL) ` +
    'or an object { connectionString } or { pool }, with optional schema, migrate and maxConnections.',
  unknownField: (option: string, known: readonly string[]) =>
    `nestjs-provenance: unknown option \`${option}\` (known options: ${known.join(', ')}).`,
  badField: (option: string, expected: string, got: string) =>
    `nestjs-provenance: \`${option}\` must be ${expected}; got ${got}.`,
  signingKeyRefused: (fromEnv: boolean) =>
    'nestjs-provenance: `audit.signingKey` cannot be used with `postgres` yet: signed checkpoints of ' +
    'a chain that several replicas extend are not designed yet. ' +
    (fromEnv
      ? 'The key was read from PROVENANCE_AUDIT_SIGNING_KEY: unset it, or run without postgres.'
      : 'Remove the key, or run without postgres.'),
  auditStoreRefused: (option: string, schema: string) =>
    `nestjs-provenance: \`${option}\` cannot be set with \`postgres\`: the audit trail is kept in ` +
    `the database (schema "${schema}", table audit_events). Leave audit.store, path and durable unset.`,
  remoteGatewayRefused: () =>
    'nestjs-provenance: `postgres` is for the embedded gateway, but `gatewayUrl` is set (the remote ' +
    'gateway keeps its own state): remove one of the two.',
  badStoredOutcome: (escalationId: string, status: string) =>
    `postgres: escalation ${escalationId} ended (${status}) but its recorded answer is missing or ` +
    'malformed: nothing is answered for it (never an ALLOW)',
  startFailed: (where: string, detail: string) =>
    `nestjs-provenance: PostgreSQL at ${where} could not be prepared (${detail}); ` +
    'gated calls fail (closed) until it answers, and it is tried again on each.',
  schemaWithoutUrl: () =>
    'PROVENANCE_DATABASE_SCHEMA is set but PROVENANCE_DATABASE_URL is not: set the URL too ' +
    '(postgres://user@host:5432/db), or unset the schema to keep the audit trail in files.',
  standaloneState: (where: string, schema: string) =>
    `PostgreSQL ${where}, schema "${schema}" (audit chain, escalations, grants, idempotency keys)`,
  standaloneReplicas: () =>
    'every replica sharing this database needs the same PROVENANCE_API_KEY and PROVENANCE_TENANT_ID',
} as const;
