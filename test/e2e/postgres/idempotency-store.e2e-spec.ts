import { randomUUID } from 'node:crypto';
import type { GatewayRequest, GatewayResponse } from '../../../lib/protocol/gateway.types';
import { ProvenanceError } from '../../../lib/protocol/provenance.errors';
import { fingerprintOf } from '../../../lib/engine/idempotency-cache';
import type { IdempotencyLookup } from '../../../lib/engine/idempotency-store';
import { createEngine } from '../../../lib/engine/engine.factory';
import { acceptRequest } from '../../../lib/engine/engine-request';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import {
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
} from '../../../lib/postgres/postgres-idempotency-store';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

const request = (over: Partial<GatewayRequest> = {}): GatewayRequest => ({
  sessionId: 'sess_0123456789abcdef',
  agentId: 'agent-1',
  action: 'payments.initiate',
  parameters: { amount: 10, to: 'acct-1' },
  decision: 'ALLOW',
  ...over,
});

const answer = (over: Partial<GatewayResponse> = {}): GatewayResponse => ({
  eventId: randomUUID(),
  decision: 'ALLOW',
  reason: 'payments of 1000 or more need a human',
  escalationId: null,
  actorHumanId: null,
  ...over,
});

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

const replayOf = (found: IdempotencyLookup): Promise<GatewayResponse> => {
  if (found.kind !== 'replay') throw new Error(`expected a replay, got ${found.kind}`);
  return found.response;
};
const fingerprintIn = (found: IdempotencyLookup): string => {
  if (found.kind !== 'miss') throw new Error(`expected a miss, got ${found.kind}`);
  return found.fingerprint;
};

describeWithPostgres('PostgresIdempotencyStore (two replicas, one schema)', () => {
  const db = usePostgres();
  const contexts: PostgresContext[] = [];
  const stores: PostgresIdempotencyStore[] = [];
  let tenantCount = 0;

  /** A replica's row in `replicas`: alive for the whole test, or stale (its holder dead). */
  const beat = async (id: string, alive: boolean) => {
    await db.pool.query(
      `INSERT INTO "${db.schema}".replicas (id, heartbeat_at)
       VALUES ($1, now() + $2 * interval '1 hour')
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`,
      [id, alive ? 1 : -1],
    );
  };
  const storeOn = (
    tenant: string,
    holderId: string,
    over: Partial<PostgresIdempotencyStoreOptions> = {},
  ) => {
    const context = new PostgresContext({ pool: db.newPool(), schema: db.schema });
    contexts.push(context);
    const store = new PostgresIdempotencyStore(context, tenant, {
      holderId,
      pollIntervalMs: 20,
      ...over,
    });
    stores.push(store);
    return { store, context };
  };
  /** Two replicas of one tenant, both alive. */
  const replicas = async (over: Partial<PostgresIdempotencyStoreOptions> = {}) => {
    const tenant = `tenant-${++tenantCount}`;
    const idA = `replica-a-${tenantCount}`;
    const idB = `replica-b-${tenantCount}`;
    const a = storeOn(tenant, idA, over);
    await a.context.ready();
    await beat(idA, true);
    await beat(idB, true);
    return { tenant, idA, idB, a: a.store, b: storeOn(tenant, idB, over).store };
  };
  const rowOf = async (tenant: string, key: string) =>
    (
      await db.pool.query<{ fingerprint: string; holder: string; kind: string | null }>(
        `SELECT fingerprint, holder, jsonb_typeof(response) AS kind
         FROM "${db.schema}".idempotency_keys WHERE tenant_id = $1 AND key = $2`,
        [tenant, key],
      )
    ).rows[0];

  afterAll(async () => {
    for (const store of stores) store.clear();
    await Promise.all(stores.map((store) => store.idle()));
    await Promise.all(contexts.map((context) => context.close()));
  });

  it('claims a fresh key (miss) with the call’s fingerprint, this replica as holder', async () => {
    const { a, tenant, idA } = await replicas();
    const found = await a.lookup('k1', request(), acceptRequest(request()));
    expect(found).toEqual({
      kind: 'miss',
      fingerprint: fingerprintOf(request(), acceptRequest(request())),
    });
    expect(await rowOf(tenant, 'k1')).toEqual({
      fingerprint: fingerprintOf(request(), acceptRequest(request())),
      holder: idA,
      kind: null,
    });
  });

  it('replays the first answer on the other replica, waiting while it is in flight', async () => {
    const { a, b, tenant } = await replicas();
    const first = deferred<GatewayResponse>();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, first.promise);
    // The same call on the other replica while the first is being decided.
    const waiting = replayOf(await b.lookup('k', request(), acceptRequest(request())));
    // The same call on the deciding replica: its own answer, the same promise.
    expect(replayOf(await a.lookup('k', request(), acceptRequest(request())))).toBe(first.promise);
    const given = answer({
      decision: 'ALLOW',
      escalationId: randomUUID(),
      actorHumanId: 'alice',
      approverReason: 'fine',
      escalationOutcome: 'approved',
    });
    first.resolve(given);
    const replayed = await waiting;
    expect(replayed).toEqual(given);
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(given));
    await a.idle();
    expect((await rowOf(tenant, 'k')).kind).toBe('object');
    const later = await replayOf(await b.lookup('k', request(), acceptRequest(request())));
    expect(JSON.stringify(later)).toBe(JSON.stringify(given));
  });

  it('gives a fresh key to exactly one of 40 racing lookups on two replicas', async () => {
    const { a, b } = await replicas();
    const given = answer();
    const found = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).lookup('race', request(), acceptRequest(request())),
      ),
    );
    const misses = found.flatMap((f, i) => (f.kind === 'miss' ? [i] : []));
    expect(misses).toHaveLength(1);
    const winner = misses[0] % 2 === 0 ? a : b;
    winner.remember('race', fingerprintIn(found[misses[0]]), Promise.resolve(given));
    const replays = await Promise.all(found.filter((f) => f.kind !== 'miss').map(replayOf));
    expect(replays).toHaveLength(39);
    for (const replayed of replays) expect(replayed).toEqual(given);
  });

  it('answers conflict for another call with the key, in flight and after', async () => {
    const { a, b } = await replicas();
    const first = deferred<GatewayResponse>();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, first.promise);
    const other = request({ parameters: { amount: 11, to: 'acct-1' } });
    expect(await b.lookup('k', other, acceptRequest(other))).toEqual({ kind: 'conflict' });
    const otherAgent = request({ agentId: 'agent-2' });
    expect(await b.lookup('k', otherAgent, acceptRequest(otherAgent))).toEqual({
      kind: 'conflict',
    });
    first.resolve(answer());
    await a.idle();
    expect(await b.lookup('k', other, acceptRequest(other))).toEqual({ kind: 'conflict' });
    expect(await a.lookup('k', other, acceptRequest(other))).toEqual({ kind: 'conflict' });
  });

  it('releases the key when the first answer fails: waiters reject, a retry decides again', async () => {
    const { a, b, tenant, idB } = await replicas();
    const first = deferred<GatewayResponse>();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, first.promise);
    first.promise.catch(() => undefined);
    const waiting = replayOf(await b.lookup('k', request(), acceptRequest(request())));
    first.reject(new Error('audit log down'));
    await expect(waiting).rejects.toThrow(/failed without an answer/);
    await a.idle();
    expect(await rowOf(tenant, 'k')).toBeUndefined();
    const retry = await b.lookup('k', request(), acceptRequest(request()));
    expect(retry.kind).toBe('miss');
    expect((await rowOf(tenant, 'k')).holder).toBe(idB);
  });

  it('claims again a key whose holder died (stale heartbeat) or has no replicas row', async () => {
    const { a, b, tenant, idA, idB } = await replicas();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, new Promise<GatewayResponse>(() => undefined)); // never answers
    const waiting = replayOf(await b.lookup('k', request(), acceptRequest(request())));
    await beat(idA, false);
    await expect(waiting).rejects.toThrow(/stopped before it answered/);
    expect((await b.lookup('k', request(), acceptRequest(request()))).kind).toBe('miss');
    expect((await rowOf(tenant, 'k')).holder).toBe(idB);

    // A holder that never registered (or removed its row) is not alive either.
    const ghost = storeOn(tenant, 'replica-never-registered').store;
    const other = request({ action: 'payments.refund' });
    expect((await ghost.lookup('g', other, acceptRequest(other))).kind).toBe('miss');
    expect((await b.lookup('g', request(), acceptRequest(request()))).kind).toBe('miss');
    expect(await rowOf(tenant, 'g')).toMatchObject({
      holder: idB,
      fingerprint: fingerprintOf(request(), acceptRequest(request())),
    });
  });

  it('gives an abandoned key to exactly one of 40 racing lookups', async () => {
    const { a, b, tenant } = await replicas();
    await db.pool.query(
      `INSERT INTO "${db.schema}".idempotency_keys (tenant_id, key, fingerprint, holder)
       VALUES ($1, 'abandoned', $2, 'replica-that-died')`,
      [tenant, fingerprintOf(request(), acceptRequest(request()))],
    );
    const found = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).lookup('abandoned', request(), acceptRequest(request())),
      ),
    );
    const misses = found.flatMap((f, i) => (f.kind === 'miss' ? [i] : []));
    expect(misses).toHaveLength(1);
    expect(found.filter((f) => f.kind === 'replay')).toHaveLength(39);
    const given = answer();
    (misses[0] % 2 === 0 ? a : b).remember(
      'abandoned',
      fingerprintIn(found[misses[0]]),
      Promise.resolve(given),
    );
    for (const f of found) if (f.kind === 'replay') expect(await f.response).toEqual(given);
  });

  it('keeps an answer exactly, even with a NUL or a lone surrogate jsonb cannot hold', async () => {
    const { a, b, tenant } = await replicas();
    const answers: GatewayResponse[] = [
      answer({
        decision: 'BLOCK',
        reason: 'refused\u0000by policy',
        escalationOutcome: 'rejected',
      }),
      answer({ decision: 'BLOCK', reason: 'half \ud800 a pair', approverReason: null }),
      answer({ decision: 'ALLOW', reason: 'ok ✓ \u{1F600}', eventId: null }),
    ];
    for (const [i, given] of answers.entries()) {
      const key = `exact-${i}`;
      const fingerprint = fingerprintIn(await a.lookup(key, request(), acceptRequest(request())));
      a.remember(key, fingerprint, Promise.resolve(given));
    }
    await a.idle();
    for (const [i, given] of answers.entries()) {
      const replayed = await replayOf(
        await b.lookup(`exact-${i}`, request(), acceptRequest(request())),
      );
      expect(JSON.stringify(replayed)).toBe(JSON.stringify(given));
      expect(replayed.reason).toBe(given.reason);
    }
    expect((await rowOf(tenant, 'exact-0')).kind).toBe('string');
    expect((await rowOf(tenant, 'exact-2')).kind).toBe('object');
  });

  it('refuses to replay a stored answer that is not a gateway response', async () => {
    const { a, b, tenant } = await replicas();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, Promise.resolve(answer()));
    await a.idle();
    await db.pool.query(
      `UPDATE "${db.schema}".idempotency_keys SET response = '{"decision":"MAYBE","reason":"x"}'
       WHERE tenant_id = $1 AND key = 'k'`,
      [tenant],
    );
    await expect(
      replayOf(await b.lookup('k', request(), acceptRequest(request()))),
    ).rejects.toThrow(/not a gateway response/);
  });

  it('treats a key older than the retention as free, a younger one as taken', async () => {
    // sweepBatch 0: nothing is deleted, so the lookup alone must forget the old key.
    const { a, tenant, idA } = await replicas({ sweepBatch: 0 });
    await db.pool.query(
      `INSERT INTO "${db.schema}".idempotency_keys (tenant_id, key, fingerprint, response, created_at, holder)
       VALUES ($1, 'ancient', 'f', '{}'::jsonb, now() - interval '25 hours', 'gone'),
              ($1, 'recent', 'f', '{}'::jsonb, now() - interval '23 hours', 'gone')`,
      [tenant],
    );
    expect((await a.lookup('ancient', request(), acceptRequest(request()))).kind).toBe('miss');
    expect(await rowOf(tenant, 'ancient')).toMatchObject({
      kind: null,
      holder: idA,
      fingerprint: fingerprintOf(request(), acceptRequest(request())),
    });
    expect(await a.lookup('recent', request(), acceptRequest(request()))).toEqual({
      kind: 'conflict',
    });
  });

  it('deletes old keys as it goes: at most sweepBatch per sweep, one sweep per interval', async () => {
    const { a, b, tenant } = await replicas({ sweepBatch: 1000, sweepIntervalMs: 3_600_000 });
    const insertOld = (n: number) =>
      db.pool.query(
        `INSERT INTO "${db.schema}".idempotency_keys (tenant_id, key, fingerprint, response, created_at, holder)
         SELECT $1, 'old-' || gen_random_uuid(), 'f', '{}'::jsonb, now() - interval '25 hours', 'gone'
         FROM generate_series(1, $2::int)`,
        [tenant, n],
      );
    const countOld = async () =>
      Number(
        (
          await db.pool.query(
            `SELECT count(*) AS n FROM "${db.schema}".idempotency_keys
             WHERE tenant_id = $1 AND created_at < now() - interval '24 hours'`,
            [tenant],
          )
        ).rows[0].n,
      );
    await insertOld(1500);
    await b.lookup('fresh-b', request(), acceptRequest(request()));
    await b.idle();
    expect(await countOld()).toBe(500);
    await a.lookup('fresh-a', request(), acceptRequest(request()));
    await a.idle();
    expect(await countOld()).toBe(0);
    await insertOld(10);
    await a.lookup('fresh-a2', request(), acceptRequest(request()));
    await b.lookup('fresh-b2', request(), acceptRequest(request()));
    await Promise.all([a.idle(), b.idle()]);
    expect(await countOld()).toBe(10);
    // The fresh keys stay.
    expect((await rowOf(tenant, 'fresh-a')).kind).toBeNull();
  });

  it('rejects a lookup when the database cannot be reached (never a silent miss)', async () => {
    const pool = db.newPool();
    const context = new PostgresContext({ pool, schema: db.schema });
    const store = new PostgresIdempotencyStore(context, 'tenant-down', { holderId: 'r' });
    await context.ready();
    await pool.end();
    const found = store.lookup('k', request(), acceptRequest(request()));
    await expect(found).rejects.toBeInstanceOf(ProvenanceError);
    await expect(found).rejects.toThrow(/cannot read or claim the idempotency key/);
  });

  it('stops waiting for another replica on clear()', async () => {
    const { a, b } = await replicas();
    const fingerprint = fingerprintIn(await a.lookup('k', request(), acceptRequest(request())));
    a.remember('k', fingerprint, new Promise<GatewayResponse>(() => undefined));
    const waiting = replayOf(await b.lookup('k', request(), acceptRequest(request())));
    b.clear();
    await expect(waiting).rejects.toThrow(/idempotency store is closed/);
  });

  it('gives two engines on one schema one answer per key, and fails closed without the database', async () => {
    const { tenant, idA, idB } = await replicas();
    const policy = {
      name: 'keys',
      rules: [{ action: 'payments.*', on_match: 'ALLOW' as const, reason: 'payments are fine' }],
    };
    const engineWith = (store: PostgresIdempotencyStore) =>
      createEngine({
        policy,
        tenantId: tenant,
        audit: { store: 'memory' },
        stores: () => ({ idempotency: store }),
      });
    const one = engineWith(storeOn(tenant, idA).store);
    const two = engineWith(storeOn(tenant, idB).store);
    const keyed = request({ idempotencyKey: 'pay-1' });
    const first = await one.engine.execute(keyed);
    const again = await two.engine.execute(keyed);
    expect(first.decision).toBe('ALLOW');
    expect(again).toEqual(first);
    const conflict = await two.engine.execute({ ...keyed, parameters: { amount: 99 } });
    expect(conflict.decision).toBe('BLOCK');
    expect((await two.audit.list({})).map((e) => e.kind)).toEqual([
      'decision.replayed',
      'decision',
    ]);

    const pool = db.newPool();
    const down = new PostgresContext({ pool, schema: db.schema });
    await down.ready();
    await pool.end();
    const three = engineWith(new PostgresIdempotencyStore(down, tenant, { holderId: idA }));
    await expect(three.engine.execute(request({ idempotencyKey: 'pay-2' }))).rejects.toThrow(
      /cannot read or claim/,
    );
    expect(await three.audit.list({})).toEqual([]);
    await Promise.all([one.engine.close(), two.engine.close(), three.engine.close()]);
  });
});
