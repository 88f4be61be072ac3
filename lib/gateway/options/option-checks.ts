import { Messages } from '../../protocol/provenance.messages';
import { isValidSessionId } from '../../protocol/session-id';
import type { OptionCheck } from './option-spec';

/** The checks the option tables use. Each names the option and what it must be. */

function expecting(expected: string, test: (value: unknown) => boolean): OptionCheck {
  return (value, option) => (test(value) ? null : Messages.badOption(option, expected, value));
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((m) => typeof record[m] === 'function');
}

export const aString = expecting('a string', (v) => typeof v === 'string');

/** A string that must never be shown: a bad value is described by its type only. */
export const aSecretString: OptionCheck = (value, option) =>
  typeof value === 'string' ? null : Messages.badOption(option, 'a string', typeof value);

export const aBoolean = expecting('true or false', (v) => typeof v === 'boolean');

export const aFunction = expecting('a function', (v) => typeof v === 'function');

export const anObject = expecting('an object', (v) => typeof v === 'object' && v !== null);

export function positiveInteger(unit: string): OptionCheck {
  return expecting(
    `a positive whole number of ${unit}`,
    (v) => typeof v === 'number' && Number.isInteger(v) && v > 0,
  );
}

export function oneOf(...values: readonly string[]): OptionCheck {
  const expected = values
    .map((v) => `'${v}'`)
    .join(', ')
    .replace(/, ([^,]*)$/, ' or $1');
  return expecting(expected, (v) => (values as readonly unknown[]).includes(v));
}

export const aSessionId: OptionCheck = (value, option) =>
  isValidSessionId(value) ? null : Messages.badSessionId(option, value);

export const aPolicySource = expecting(
  'a file path, policy text, a policy document or a compiled policy',
  (v) => typeof v === 'string' || typeof v === 'object',
);

export const anAuditStore = expecting(
  "'file', 'memory' or an AuditStore",
  (v) => v === 'file' || v === 'memory' || hasMethods(v, ['open', 'append', 'read', 'close']),
);

export const aLogger = expecting(
  'a LoggerService (an object with log, warn and error methods)',
  (v) => hasMethods(v, ['log', 'warn', 'error']),
);

/** `true` or an options object; its fields are checked by resolvePostgresOptions (lib/postgres). */
export const aPostgresSetting = expecting(
  'true or an object { connectionString } or { pool } (with optional schema, migrate, maxConnections)',
  (v) => v === true || (typeof v === 'object' && v !== null && !Array.isArray(v)),
);
