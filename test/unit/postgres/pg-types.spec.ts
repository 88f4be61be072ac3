import { Pool, type PoolClient } from 'pg';
import { PostgresContext, type PostgresOptions } from '../../../lib';
import type { PgPool, PgPoolClient, PgPoolModule } from '../../../lib/postgres/pg.types';
import * as pg from 'pg';

// The library's own node-postgres types (lib/postgres/pg.types.ts) keep `pg`
// out of its published declarations. These three lines are the check that
// the real package still fits them: `npm run typecheck` fails if it stops.
export const realModule: PgPoolModule = pg;
export const realClient = (client: PoolClient): PgPoolClient => client;
export const realPool = (pool: Pool): PgPool => pool;

describe('the library node-postgres types', () => {
  it('take a real pg.Pool as the application pool, used as it is and never ended', async () => {
    const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', max: 1 });
    const options: PostgresOptions = { pool, schema: 'pg_types_check' };
    const context = new PostgresContext(options);
    expect(context.pool).toBe(pool);
    expect(context.description).toBe('a pg.Pool of the application');
    // close() ends only what the library made: the application's pool stays usable.
    await context.close();
    expect(pool.ended).toBe(false);
    await pool.end();
  });
});
