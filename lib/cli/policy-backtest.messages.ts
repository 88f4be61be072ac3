/** What `provenance policy backtest` says when it cannot read its input. */
export const PolicyBacktestMessages = {
  unreadableFile: (file: string, why: string) => `${file}: cannot read the audit log: ${why}`,
  notAnAuditLog: (source: string, records: number) =>
    `${source}: not an audit log: none of its ${records} record(s) is an audit event`,
  databaseFailed: (source: string, why: string) => `${source}: cannot read the audit chain: ${why}`,
  noAuditTable: (source: string, schema: string) =>
    `${source}: schema "${schema}" has no audit_events table (wrong --schema, or never migrated)`,
  emptyLog: () =>
    'the log has no events (for PostgreSQL: are --schema and --tenant the ones the gateway writes?)',
  fileAndUrl: () => 'give an audit FILE or --url, not both',
  noSource: () => 'policy backtest needs an audit FILE or --url postgres://...',
  postgresOnly: (flag: string) => `${flag} applies to --url only`,
  badExamples: (value: string) => `--examples needs a whole number from 0 to 1000, got '${value}'`,
};
