import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { redactConnectionString } from '../../../lib/postgres/connection-string';
import { loadPg } from '../../../lib/postgres/pg-loader';
import { migrate } from '../../../lib/postgres/migrations';
import { quoteSchema } from '../../../lib/postgres/schema-name';
import { runDbCommand } from '../../../lib/cli/db.command';

const missingPg = (id: string): never => {
  const error = new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/x.js`) as Error & {
    code: string;
  };
  error.code = 'MODULE_NOT_FOUND';
  throw error;
};

describe('loadPg: pg is an optional peer dependency', () => {
  it('loads node-postgres with the real require', () => {
    expect(typeof loadPg().Pool).toBe('function');
  });

  it('without pg, throws a ProvenanceConfigError on postgres that says `npm install pg`', () => {
    let thrown: unknown;
    try {
      loadPg(missingPg);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProvenanceConfigError);
    expect((thrown as ProvenanceConfigError).option).toBe('postgres');
    expect((thrown as Error).message).toContain('npm install pg');
    expect((thrown as Error).message).toContain("Cannot find module 'pg'");
    expect((thrown as Error).message).not.toContain('Require stack');
  });

  it('refuses a module that is not node-postgres', () => {
    expect(() => loadPg(() => ({}))).toThrow(/npm install pg/);
  });

  it('provenance db migrate without pg: exit 2 and the install hint, before connecting', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDbCommand(
      ['migrate', '--url', 'postgres://u:s3cret@127.0.0.1:1/none'],
      { out: (l) => out.push(l), err: (l) => err.push(l) },
      { requirePg: missingPg },
    );
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('npm install pg');
    expect([...out, ...err].join('\n')).not.toContain('s3cret');
  });
});

describe('the schema name is the only text spliced into SQL', () => {
  it.each(['provenance', '_x', 'a1_b2', 'a'.repeat(63)])('accepts %s, quoted', (name) => {
    expect(quoteSchema(name)).toBe(`"${name}"`);
  });

  it.each([
    '',
    'Provenance',
    '1abc',
    'a-b',
    'a b',
    'a"; DROP TABLE x; --',
    'a'.repeat(64),
    'é',
    'public.x',
  ])('refuses %j with a ProvenanceConfigError on postgres.schema', (name) => {
    expect(() => quoteSchema(name)).toThrow(ProvenanceConfigError);
    expect(() => quoteSchema(name)).toThrow(/postgres\.schema.*\^\[a-z_\]/);
  });

  it('migrate refuses a bad schema before asking the pool for anything', async () => {
    const connect = jest.fn();
    await expect(
      migrate({ connect } as never, { schema: 'x"; DROP SCHEMA public CASCADE; --' }),
    ).rejects.toThrow(ProvenanceConfigError);
    expect(connect).not.toHaveBeenCalled();
  });
});

describe('redactConnectionString', () => {
  it('hides the password and password parameters', () => {
    const shown = redactConnectionString(
      'postgres://user:p%40ss@db:5432/app?password=x&sslmode=require',
    );
    expect(shown).not.toMatch(/p%40ss|p@ss|password=x/);
    expect(shown).toContain('user:***@db:5432/app');
    expect(shown).toContain('sslmode=require');
  });

  it('shows nothing of a string that is not a URL', () => {
    expect(redactConnectionString('host=db password=secret')).toBe(
      '<unparseable connection string>',
    );
  });
});
