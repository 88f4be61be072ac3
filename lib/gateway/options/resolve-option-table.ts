import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import { Messages } from '../../protocol/provenance.messages';
import { didYouMean, howToSet } from './option-hints';
import type { DeprecatedSpec, OptionSource, OptionSpec, OptionTable } from './option-spec';

export type OptionEnv = Readonly<Record<string, string | undefined>>;

export interface ResolvedTable {
  /** Every non-deprecated option of the table: its value, its env fallback's, or its default. */
  values: Record<string, unknown>;
  sources: Record<string, OptionSource>;
}

interface Read {
  value: unknown;
  source: OptionSource;
}

const warned = new Set<string>();

/**
 * Resolves `input` against `table`: refuses keys the table does not have,
 * then for each option takes the value given (`undefined` and `null` are
 * unset), else its environment fallback, checks it, else takes its default.
 * Every error names the option (`prefix` + key) and how to set it.
 */
export function resolveOptionTable(
  table: OptionTable,
  input: object,
  env: OptionEnv,
  prefix = '',
): ResolvedTable {
  refuseUnknownKeys(table, input, prefix);
  const values: Record<string, unknown> = {};
  const sources: Record<string, OptionSource> = {};
  for (const [key, spec] of Object.entries(table)) {
    const name = prefix + key;
    const read = readOption((input as Record<string, unknown>)[key], spec.env, env);
    sources[key] = read.source;
    if ('deprecated' in spec) {
      if (read.source === 'option') warnOnce(name, spec.deprecated);
      continue;
    }
    values[key] = resolveOption(name, spec, read, env);
  }
  return { values, sources };
}

function resolveOption(
  name: string,
  spec: Exclude<OptionSpec, DeprecatedSpec>,
  { value, source }: Read,
  env: OptionEnv,
): unknown {
  if (value !== undefined) {
    const problem = spec.check(value, name);
    if (problem !== null) {
      throw new ProvenanceConfigError(name, problem + howToSet(name, spec.env, source));
    }
  }
  if ('group' in spec) return resolveOptionTable(spec.group, value ?? {}, env, `${name}.`).values;
  if ('required' in spec) {
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
      throw new ProvenanceConfigError(name, spec.required());
    }
    return value;
  }
  if (value !== undefined) return value;
  return 'makeDefault' in spec ? spec.makeDefault() : spec.default;
}

function readOption(given: unknown, envName: string | undefined, env: OptionEnv): Read {
  if (given !== undefined && given !== null) return { value: given, source: 'option' };
  const fromEnv = envName === undefined ? undefined : env[envName]?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: 'env' };
  return { value: undefined, source: 'default' };
}

function refuseUnknownKeys(table: OptionTable, input: object, prefix: string): void {
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(table, key)) continue;
    // Deprecated options are accepted but not offered.
    const known = Object.entries(table)
      .filter(([, spec]) => !('deprecated' in spec))
      .map(([k]) => prefix + k);
    const name = prefix + key;
    throw new ProvenanceConfigError(
      name,
      Messages.unknownOption(name, known) + didYouMean(name, known),
    );
  }
}

function warnOnce(option: string, message: string): void {
  if (warned.has(option)) return;
  warned.add(option);
  process.emitWarning(message, {
    type: 'DeprecationWarning',
    code: 'PROVENANCE_DEPRECATED_OPTION',
  });
}
