import { inspect } from 'node:util';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { resolvePostgresOptions } from '../../../lib/postgres/postgres-options';
import { resolveClientOptions } from '../../../lib/gateway/provenance-client.options-resolver';

const URL_WITH_SECRET = 'postgres://app:s3cr3t-pw@db.internal:5432/prod';
/** What resolvePostgresOptions checks a pool for: the methods the library calls. */
const fakePool = { connect: () => undefined, query: () => undefined, end: () => undefined };

function configError(fn: () => unknown): ProvenanceConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    return error as ProvenanceConfigError;
  }
  throw new Error('expected a ProvenanceConfigError');
}

describe('resolvePostgresOptions: the postgres option, checked field by field at start-up', () => {
  it('fills the defaults around a connection string, which it keeps but never enumerates', () => {
    const resolved = resolvePostgresOptions({ connectionString: URL_WITH_SECRET }, {});
    expect(resolved.connectionString).toBe(URL_WITH_SECRET);
    expect(resolved).toEqual({ schema: 'provenance', migrate: true, maxConnections: 10 });
    expect(JSON.stringify(resolved)).not.toContain('s3cr3t');
    expect(inspect(resolved)).not.toContain('s3cr3t');
  });

  it('keeps a pool as it is, with the schema and migrate given', () => {
    const resolved = resolvePostgresOptions(
      { pool: fakePool as never, schema: 'tenant_a', migrate: false, maxConnections: 3 },
      {},
    );
    expect(resolved.pool).toBe(fakePool);
    expect(resolved.connectionString).toBeUndefined();
    expect([resolved.schema, resolved.migrate, resolved.maxConnections]).toEqual([
      'tenant_a',
      false,
      3,
    ]);
  });

  it('true, or neither connectionString nor pool: PROVENANCE_DATABASE_URL is the connection', () => {
    const env = { PROVENANCE_DATABASE_URL: ` ${URL_WITH_SECRET} ` };
    expect(resolvePostgresOptions(true, env).connectionString).toBe(URL_WITH_SECRET);
    expect(resolvePostgresOptions({ schema: 'x' }, env).connectionString).toBe(URL_WITH_SECRET);
    // A connection given wins over the variable.
    const given = resolvePostgresOptions({ connectionString: 'postgres://h/db' }, env);
    expect(given.connectionString).toBe('postgres://h/db');
  });

  it.each<[unknown, string, RegExp]>([
    [
      { connectionString: URL_WITH_SECRET, pool: fakePool },
      'postgres.pool',
      /either connectionString or pool/,
    ],
    [{}, 'postgres.connectionString', /PROVENANCE_DATABASE_URL/],
    [true, 'postgres.connectionString', /PROVENANCE_DATABASE_URL/],
    [
      { connectionString: '  ' },
      'postgres.connectionString',
      /a postgres:\/\/ URL; got a blank string/,
    ],
    [{ connectionString: 42 }, 'postgres.connectionString', /got number/],
    [{ pool: { query: 'SELECT 1' } }, 'postgres.pool', /pg\.Pool/],
    [{ connectionString: 'postgres://h/db', schema: 'Bad-Name' }, 'postgres.schema', /\^\[a-z_\]/],
    [
      { connectionString: 'postgres://h/db', schema: 'x"; DROP SCHEMA public; --' },
      'postgres.schema',
      /lowercase identifier/,
    ],
    [
      { connectionString: 'postgres://h/db', migrate: 'yes' },
      'postgres.migrate',
      /true or false; got "yes"/,
    ],
    [
      { connectionString: 'postgres://h/db', maxConnections: 0 },
      'postgres.maxConnections',
      /positive whole number/,
    ],
    [
      { connectionString: 'postgres://h/db', shcema: 'x' },
      'postgres.shcema',
      /unknown option.*postgres\.schema/,
    ],
    ['postgres://h/db', 'postgres', /must be true .* or an object/],
    [[], 'postgres', /must be true .* or an object/],
  ])('%j: ProvenanceConfigError on %s', (setting, option, message) => {
    const error = configError(() => resolvePostgresOptions(setting, {}));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('never shows the connection string in an error', () => {
    const error = configError(() =>
      resolvePostgresOptions({ connectionString: URL_WITH_SECRET, pool: fakePool }, {}),
    );
    const other = configError(() =>
      resolvePostgresOptions({ connectionString: URL_WITH_SECRET, schema: 'NO' }, {}),
    );
    expect(`${error.message} ${other.message}`).not.toContain('s3cr3t');
  });
});

describe('the postgres option of ProvenanceClient (and ProvenanceModule.forRoot)', () => {
  const base = { agentId: 'agent-1', policy: { rules: [{ action: '*', on_match: 'ALLOW' }] } };
  const env = { PROVENANCE_DATABASE_URL: URL_WITH_SECRET };

  it('is off by default, even with PROVENANCE_DATABASE_URL set: the variable alone never moves the audit trail', () => {
    const resolved = resolveClientOptions(base as never, { env });
    expect(resolved.postgres).toBeNull();
    expect(resolved.audit.store).toBe('file');
  });

  it('postgres: true connects to PROVENANCE_DATABASE_URL', () => {
    const resolved = resolveClientOptions({ ...base, postgres: true } as never, { env });
    expect(resolved.mode).toBe('embedded');
    expect(resolved.postgres?.connectionString).toBe(URL_WITH_SECRET);
    expect(resolved.postgres?.schema).toBe('provenance');
    expect(JSON.stringify(resolved)).not.toContain('s3cr3t');
  });

  it('postgres: true without the variable names postgres.connectionString', () => {
    const error = configError(() =>
      resolveClientOptions({ ...base, postgres: true } as never, { env: {} }),
    );
    expect(error.option).toBe('postgres.connectionString');
  });

  it('names the field of a bad postgres option', () => {
    const error = configError(() =>
      resolveClientOptions(
        { ...base, postgres: { connectionString: 'postgres://h/db', migrate: 1 } } as never,
        { env: {} },
      ),
    );
    expect(error.option).toBe('postgres.migrate');
    expect(
      configError(() => resolveClientOptions({ ...base, postgres: 7 } as never, { env: {} }))
        .option,
    ).toBe('postgres');
  });

  it('refuses postgres with a remote gateway, and audit store settings with postgres', () => {
    const remote = configError(() =>
      resolveClientOptions(
        {
          agentId: 'a',
          gatewayUrl: 'http://127.0.0.1:4587',
          apiKey: 'pk_live_0123456789abcdefghij',
          postgres: { connectionString: 'postgres://h/db' },
        },
        { env: {} },
      ),
    );
    expect(remote.option).toBe('postgres');
    expect(remote.message).toMatch(/gatewayUrl/);
    for (const audit of [{ store: 'memory' as const }, { path: 'x.jsonl' }, { durable: false }]) {
      const error = configError(() =>
        resolveClientOptions(
          { ...base, audit, postgres: { connectionString: 'postgres://h/db' } } as never,
          { env: {} },
        ),
      );
      expect(error.option).toBe(`audit.${Object.keys(audit)[0]}`);
      expect(error.message).toMatch(/kept in the database/);
    }
  });

  it('refuses a signing key with postgres (given, or from PROVENANCE_AUDIT_SIGNING_KEY)', () => {
    const given = configError(() =>
      resolveClientOptions({ ...base, audit: { signingKey: 'pem' }, postgres: true } as never, {
        env,
      }),
    );
    expect(given.option).toBe('audit.signingKey');
    expect(given.message).toMatch(/not designed yet/);
    const fromEnv = configError(() =>
      resolveClientOptions({ ...base, postgres: true } as never, {
        env: { ...env, PROVENANCE_AUDIT_SIGNING_KEY: 'pem' },
      }),
    );
    expect(fromEnv.option).toBe('audit.signingKey');
    expect(fromEnv.message).toMatch(/PROVENANCE_AUDIT_SIGNING_KEY/);
  });
});
