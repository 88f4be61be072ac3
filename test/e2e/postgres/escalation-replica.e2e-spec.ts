import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { PostgresReplica, replicaAliveSql } from '../../../lib/postgres/postgres-replica';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

describeWithPostgres('PostgresReplica (heartbeat in the replicas table)', () => {
  const db = usePostgres();
  const contexts: PostgresContext[] = [];
  const newContext = () => {
    const context = new PostgresContext({ connectionString: TEST_DATABASE_URL, schema: db.schema });
    contexts.push(context);
    return context;
  };
  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
  });

  const alive = async (context: PostgresContext, id: string, staleAfterMs: number) => {
    const result = await db.pool.query<{ alive: boolean }>(
      `SELECT ${replicaAliveSql(context.schema, '$1::text', staleAfterMs)} AS alive`,
      [id],
    );
    return result.rows[0].alive;
  };

  const heartbeatOf = async (id: string): Promise<Date | undefined> => {
    const result = await db.pool.query<{ heartbeat_at: Date }>(
      `SELECT heartbeat_at FROM "${db.schema}".replicas WHERE id = $1`,
      [id],
    );
    return result.rows[0]?.heartbeat_at;
  };

  it('registers on start, beats, and removes its row on close', async () => {
    const context = newContext();
    const replica = new PostgresReplica(context, { heartbeatMs: 50, staleAfterMs: 1000 });
    await replica.start();
    const first = await heartbeatOf(replica.id);
    expect(first).toBeInstanceOf(Date);
    expect(await alive(context, replica.id, 1000)).toBe(true);
    // A later beat moves heartbeat_at forward (polled: no fixed sleep).
    let later = first;
    while (later !== undefined && later.getTime() === first!.getTime()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      later = await heartbeatOf(replica.id);
    }
    expect(later!.getTime()).toBeGreaterThan(first!.getTime());
    await replica.close();
    expect(await heartbeatOf(replica.id)).toBeUndefined();
    expect(await alive(context, replica.id, 1000)).toBe(false);
    await expect(replica.start()).rejects.toThrow(/closed/);
  });

  it('a replica that stopped beating is stale after staleAfterMs; an unknown or NULL holder is never alive', async () => {
    const context = newContext();
    const replica = new PostgresReplica(context, { heartbeatMs: 20, staleAfterMs: 200 });
    await replica.start();
    replica.stopBeating();
    await db.pool.query(
      `UPDATE "${db.schema}".replicas SET heartbeat_at = now() - interval '1 second' WHERE id = $1`,
      [replica.id],
    );
    expect(await alive(context, replica.id, 200)).toBe(false);
    expect(await alive(context, replica.id, 60_000)).toBe(true);
    expect(await alive(context, 'no-such-replica', 60_000)).toBe(false);
    const nullHolder = await db.pool.query<{ alive: boolean }>(
      `SELECT ${replicaAliveSql(context.schema, 'NULL::text', 60_000)} AS alive`,
    );
    expect(nullHolder.rows[0].alive).toBe(false);
    await replica.close();
  });

  it('refuses a staleness that is not more than the heartbeat, and non-integer times', () => {
    const context = newContext();
    expect(() => new PostgresReplica(context, { heartbeatMs: 1000, staleAfterMs: 1000 })).toThrow(
      ProvenanceConfigError,
    );
    expect(() => new PostgresReplica(context, { heartbeatMs: 0.5 })).toThrow(ProvenanceConfigError);
    expect(() => replicaAliveSql(context.schema, 'holder', Number.NaN)).toThrow(
      ProvenanceConfigError,
    );
  });
});
