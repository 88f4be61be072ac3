import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { Messages } from '../protocol/provenance.messages';
import { CLIENT_OPTION_SPECS } from './options/client-option-specs';
import { resolveClientPostgres } from './options/client-postgres';
import { selectClientMode } from './options/client-mode';
import { resolveOptionTable } from './options/resolve-option-table';
import type {
  ProvenanceClientDeps,
  ProvenanceClientOptions,
  ResolvedClientOptions,
} from './provenance-client.options';

/**
 * Validates options and fills defaults and environment fallbacks, from the
 * table CLIENT_OPTION_SPECS, then chooses the mode. Every error names the
 * option at fault and how to set it; none repeats the API key.
 */
export function resolveClientOptions(
  options: ProvenanceClientOptions = {},
  deps: ProvenanceClientDeps = {},
): ResolvedClientOptions {
  if (options === null || typeof options !== 'object') {
    throw new ProvenanceConfigError('options', Messages.badOption('options', 'an object', options));
  }
  const env = deps.env ?? process.env;
  const { values, sources } = resolveOptionTable(CLIENT_OPTION_SPECS, options, env);
  // The table's type ties each default to its ResolvedClientOptions field; the checks, the values.
  const resolvedOptions = values as Omit<ResolvedClientOptions, 'mode'>;
  resolvedOptions.postgres = resolveClientPostgres(resolvedOptions, options, env);
  const mode = selectClientMode(resolvedOptions, sources, deps.transport);
  const resolved: ResolvedClientOptions = { mode, ...resolvedOptions };
  // Not enumerable: a logger or JSON.stringify that dumps the options must not print the key.
  Object.defineProperty(resolved, 'apiKey', { enumerable: false });
  return resolved;
}
