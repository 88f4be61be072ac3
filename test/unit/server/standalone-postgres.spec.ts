import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { readStandaloneSettings } from '../../../lib/server/standalone-settings';
import { printStandaloneBanner } from '../../../lib/server/standalone-banner';
import { validateServerOptions } from '../../../lib/server/options-validator';

const URL_WITH_SECRET = 'postgres://gw:s3cr3t-pw@db.internal:5432/prod';
const POLICY = { name: 'allow-all', rules: [{ action: '*', on_match: 'ALLOW' as const }] };
const KEYS = [{ key: 'pk_live_0123456789abcdefghij', tenantId: 't1', policy: POLICY }];

function settingsOf(env: Record<string, string>) {
  return readStandaloneSettings(
    { PROVENANCE_POLICY: 'sample/policy.yml', ...env },
    () => undefined,
  );
}

describe('npm run gateway: PROVENANCE_DATABASE_URL puts the state in PostgreSQL', () => {
  it('without it, files as before, and a made-up tenant', () => {
    const settings = settingsOf({});
    expect(settings.postgres).toBeNull();
    expect(settings.tenantId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('with it: the URL and schema, the tenant `default` so that replicas share one', () => {
    const settings = settingsOf({
      PROVENANCE_DATABASE_URL: URL_WITH_SECRET,
      PROVENANCE_DATABASE_SCHEMA: 'gw_state',
    });
    expect(settings.postgres).toEqual({ connectionString: URL_WITH_SECRET, schema: 'gw_state' });
    expect(settings.tenantId).toBe('default');
    expect(
      settingsOf({ PROVENANCE_DATABASE_URL: URL_WITH_SECRET, PROVENANCE_TENANT_ID: 'acme' })
        .tenantId,
    ).toBe('acme');
  });

  it('the banner says where the state is, without the password', () => {
    const lines: string[] = [];
    const settings = settingsOf({ PROVENANCE_DATABASE_URL: URL_WITH_SECRET });
    printStandaloneBanner(settings, 'http://127.0.0.1:4587', (line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toContain(
      'PostgreSQL postgres://gw:***@db.internal:5432/prod, schema "provenance"',
    );
    expect(text).toContain('same PROVENANCE_API_KEY and PROVENANCE_TENANT_ID');
    expect(text).not.toContain('s3cr3t');
  });

  it('refuses PROVENANCE_DATABASE_SCHEMA without the URL, and a signing key with it', () => {
    expect(() => settingsOf({ PROVENANCE_DATABASE_SCHEMA: 'x' })).toThrow(
      /PROVENANCE_DATABASE_SCHEMA is set but PROVENANCE_DATABASE_URL is not/,
    );
    expect(() =>
      settingsOf({
        PROVENANCE_DATABASE_URL: URL_WITH_SECRET,
        PROVENANCE_AUDIT_SIGNING_KEY: 'k.pem',
      }),
    ).toThrow(/PROVENANCE_AUDIT_SIGNING_KEY: unset it/);
  });
});

describe('the gateway server option postgres', () => {
  function optionOf(fn: () => unknown): string {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ProvenanceConfigError);
      expect((error as Error).message).not.toContain('s3cr3t');
      return (error as ProvenanceConfigError).option;
    }
    throw new Error('expected a ProvenanceConfigError');
  }

  it('accepts { connectionString } and checks every field, naming it', () => {
    expect(() =>
      validateServerOptions({ keys: KEYS, postgres: { connectionString: URL_WITH_SECRET } }),
    ).not.toThrow();
    const bad: Array<[unknown, string]> = [
      [
        { connectionString: URL_WITH_SECRET, pool: { connect() {}, query() {}, end() {} } },
        'postgres.pool',
      ],
      [{ connectionString: URL_WITH_SECRET, schema: 'No' }, 'postgres.schema'],
      [{ connectionString: URL_WITH_SECRET, migrate: 'no' }, 'postgres.migrate'],
      [{ connectionString: URL_WITH_SECRET, max: 3 }, 'postgres.max'],
      ['yes', 'postgres'],
    ];
    for (const [postgres, option] of bad) {
      expect(
        optionOf(() => validateServerOptions({ keys: KEYS, postgres: postgres as never })),
      ).toBe(option);
    }
  });

  it('refuses audit files or a signing key beside postgres', () => {
    const postgres = { connectionString: URL_WITH_SECRET };
    expect(
      optionOf(() => validateServerOptions({ keys: KEYS, postgres, audit: { dir: '/tmp/x' } })),
    ).toBe('audit.dir');
    expect(
      optionOf(() => validateServerOptions({ keys: KEYS, postgres, audit: { store: 'memory' } })),
    ).toBe('audit.store');
    expect(
      optionOf(() =>
        validateServerOptions({ keys: KEYS, postgres, audit: { signingKey: 'k.pem' } }),
      ),
    ).toBe('audit.signingKey');
  });
});
