import type { GrantInput, GrantRecord } from '../../../lib/protocol/grant.types';
import type { GatewayRequest } from '../../../lib/protocol/gateway.types';
import { GrantNotFoundError, ProvenanceError } from '../../../lib/protocol/provenance.errors';
import { GrantBook, singleUseGrant } from '../../../lib/engine/grants/grant-book';
import type { GrantedCall } from '../../../lib/engine/grants/grant-store';
import { createEngine } from '../../../lib/engine/engine.factory';
import type { ProvenanceEngine } from '../../../lib/engine/provenance-engine';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { PostgresEscalationStore } from '../../../lib/postgres/postgres-escalation-store';
import { PostgresGrantStore } from '../../../lib/postgres/postgres-grant-store';
import { PostgresReplica } from '../../../lib/postgres/postgres-replica';
import { insertGrantWithin } from '../../../lib/postgres/postgres-grant-rows';
import { describeWithPostgres, usePostgres } from '../../fixtures/postgres.fixture';

const SESSION = 'sess_0123456789abcdef';

const request = (over: Partial<GatewayRequest> = {}): GatewayRequest => ({
  sessionId: SESSION,
  agentId: 'agent-1',
  action: 'payments.initiate',
  parameters: { amount: 10 },
  decision: 'ALLOW',
  ...over,
});

/** A call as the engine hands it to a grant store; `hash` stands for its parameters' hash. */
const call = (over: Partial<GatewayRequest> = {}, hash = 'hash-of-the-call'): GrantedCall => {
  const req = request(over);
  return { request: req, parameters: req.parameters, parametersHash: () => hash };
};

const HOUR = 60 * 60_000;

describeWithPostgres('PostgresGrantStore (two replicas, one schema)', () => {
  const db = usePostgres();
  // One tenant per test, so the tests share the schema without seeing each other's grants.
  let tenantCount = 0;
  const contexts: PostgresContext[] = [];
  const replicas = (options: ConstructorParameters<typeof PostgresGrantStore>[2] = {}) => {
    const tenant = `tenant-${++tenantCount}`;
    const a = new PostgresContext({ pool: db.newPool(), schema: db.schema });
    const b = new PostgresContext({ pool: db.newPool(), schema: db.schema });
    contexts.push(a, b);
    return {
      tenant,
      a: new PostgresGrantStore(a, tenant, options),
      b: new PostgresGrantStore(b, tenant, options),
      contextA: a,
      contextB: b,
    };
  };
  const rowOf = async (id: string) =>
    (
      await db.pool.query<{ uses: number; status: string }>(
        `SELECT uses, status FROM "${db.schema}".grants WHERE id = $1`,
        [id],
      )
    ).rows[0];

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close()));
  });

  it('refuses the same bad input as GrantBook, with the same error, and writes nothing', async () => {
    const { a, tenant, contextA } = replicas();
    const book = new GrantBook(tenant);
    const bad: Array<[unknown, string]> = [
      [null, 'reviewer'],
      [{ action: 'payments.initiate' }, ''],
      [{}, 'reviewer'],
      [{ action: '' }, 'reviewer'],
      [{ action: 7 }, 'reviewer'],
      [{ action: 'payments.*', agentId: '' }, 'reviewer'],
      [{ action: 'payments.*', sessionId: 7 }, 'reviewer'],
      [{ action: 'payments.*', agentId: 'reviewer' }, 'reviewer'],
      [{ action: 'payments.*', conditions: 'amount < 5' }, 'reviewer'],
      [{ action: 'payments.*', conditions: [{ field: 'amount', operator: '~', value: 1 }] }, 'r'],
      [{ action: 'payments.*', conditions: [{ operator: '<', value: 1 }] }, 'reviewer'],
      [{ action: 'payments.*', expiresInMs: 0 }, 'reviewer'],
      [{ action: 'payments.*', expiresInMs: 31 * 24 * HOUR }, 'reviewer'],
      [{ action: 'payments.*', maxUses: 0 }, 'reviewer'],
      [{ action: 'payments.*', maxUses: 2.5 }, 'reviewer'],
      [{ action: 'payments.*', maxUses: 10_001 }, 'reviewer'],
      [{ action: 'payments.*', reason: 42 }, 'reviewer'],
    ];
    for (const [input, by] of bad) {
      let expected: unknown;
      try {
        book.grant(input as GrantInput, by);
      } catch (error) {
        expected = error;
      }
      expect(expected).toBeInstanceOf(ProvenanceError);
      const got = await a.grant(input as GrantInput, by).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(got).toBeInstanceOf((expected as object).constructor);
      expect((got as Error).message).toBe((expected as Error).message);
      expect((got as { field?: string }).field).toBe((expected as { field?: string }).field);
    }
    await contextA.ready(); // The checks ran before any SQL: the tables may not exist yet.
    const rows = await db.pool.query(`SELECT 1 FROM "${db.schema}".grants WHERE tenant_id = $1`, [
      tenant,
    ]);
    expect(rows.rowCount).toBe(0);
  });

  it('keeps a grant exactly: what one replica gives, the other lists', async () => {
    const { a, b, tenant } = replicas();
    const given = await a.grant(
      {
        action: 'payments.*',
        conditions: [{ field: 'amount', operator: '<=', value: 1000 }],
        agentId: 'agent-1',
        sessionId: SESSION,
        expiresInMs: 2 * HOUR,
        maxUses: 3,
        reason: 'month end',
      },
      'alice',
    );
    expect(given).toMatchObject({
      kind: 'standing',
      tenantId: tenant,
      action: 'payments.*',
      conditions: [{ field: 'amount', operator: '<=', value: 1000 }],
      agentId: 'agent-1',
      sessionId: SESSION,
      parametersHash: null,
      escalationId: null,
      grantedBy: 'alice',
      reason: 'month end',
      maxUses: 3,
      uses: 0,
      status: 'ACTIVE',
    });
    expect(Date.parse(given.expiresAt) - Date.parse(given.createdAt)).toBe(2 * HOUR);
    expect(await b.list()).toEqual([given]);
  });

  it('counts exactly 5 uses of a 5-use grant when 2 replicas race 50 calls', async () => {
    const { a, b } = replicas();
    const grant = await a.grant({ action: 'payments.initiate', maxUses: 5 }, 'alice');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).use(call())),
    );
    const won = results.filter((r): r is GrantRecord => r !== null);
    expect(won).toHaveLength(5);
    expect(won.every((r) => r.id === grant.id)).toBe(true);
    expect(won.map((r) => r.uses).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await rowOf(grant.id)).toEqual({ uses: 5, status: 'USED_UP' });
    expect(await a.use(call())).toBeNull();
    expect(await b.list()).toEqual([]);
  });

  it('prefers a single-use grant for the identical call, matched by the parameters hash', async () => {
    const { a, b, tenant, contextA } = replicas();
    const standing = await a.grant({ action: 'payments.*', maxUses: 10 }, 'alice');
    const single = singleUseGrant(
      tenant,
      { action: 'payments.initiate', agentId: 'agent-1', parametersHash: 'hash-approved' },
      'esc-1',
      'bob',
      'ok once',
    );
    await contextA.transaction((client) => insertGrantWithin(client, contextA.schema, single));
    // Another call (other parameters' hash, other agent): the standing grant, not the single-use one.
    expect((await b.use(call({}, 'hash-other')))?.id).toBe(standing.id);
    expect((await b.use(call({ agentId: 'agent-2' }, 'hash-approved')))?.id).toBe(standing.id);
    // The identical call: the single-use grant first, although the standing one is older.
    const used = await b.use(call({}, 'hash-approved'));
    expect(used).toEqual({ ...single, uses: 1, status: 'USED_UP' });
    expect((await a.use(call({}, 'hash-approved')))?.id).toBe(standing.id);
    expect(await rowOf(single.id)).toEqual({ uses: 1, status: 'USED_UP' });
    expect(await rowOf(standing.id)).toEqual({ uses: 3, status: 'ACTIVE' });
  });

  it('asks for the parameters hash only when a single-use grant could cover the call', async () => {
    const { a } = replicas();
    await a.grant({ action: 'payments.initiate', maxUses: 2 }, 'alice');
    let asked = 0;
    const counted: GrantedCall = {
      ...call(),
      parametersHash: () => {
        asked++;
        return 'h';
      },
    };
    expect(await a.use(counted)).not.toBeNull();
    expect(asked).toBe(0);
  });

  it('applies the terms: action glob, conditions, agent and session', async () => {
    const { a, b } = replicas();
    const g = await a.grant(
      {
        action: 'payments.*',
        conditions: [{ field: 'amount', operator: '<=', value: 1000 }],
        agentId: 'agent-1',
        sessionId: SESSION,
        maxUses: 100,
      },
      'alice',
    );
    expect(await b.use(call({ parameters: { amount: 5000 } }))).toBeNull();
    expect(await b.use(call({ parameters: null }))).toBeNull();
    expect(await b.use(call({ action: 'files.delete' }))).toBeNull();
    expect(await b.use(call({ agentId: 'agent-2' }))).toBeNull();
    expect(await b.use(call({ sessionId: 'sess_ffffffffffffffff' }))).toBeNull();
    expect(await b.use(call({ action: 'payments.refund', parameters: { amount: 1000 } }))).toEqual({
      ...g,
      uses: 1,
    });
  });

  it('never uses or lists an expired grant, and cannot revoke it', async () => {
    const { a, tenant } = replicas();
    const late = new PostgresGrantStore(
      new PostgresContext({ pool: db.pool, schema: db.schema }),
      tenant,
      { now: () => Date.now() + 2 * HOUR },
    );
    const g = await a.grant({ action: 'payments.initiate', maxUses: 5 }, 'alice');
    const expired = singleUseGrant(
      tenant,
      { action: 'payments.initiate', agentId: 'agent-1', parametersHash: 'h' },
      'esc-old',
      'bob',
      null,
      Date.now() - 2 * HOUR,
    );
    await insertGrantWithin(db.pool, `"${db.schema}"`, expired);
    expect(await a.use(call({}, 'h'))).toEqual({ ...g, uses: 1 });
    // Two hours on, the one-hour grant is over.
    expect(await late.use(call({}, 'h'))).toBeNull();
    await expect(late.revoke(g.id)).rejects.toBeInstanceOf(GrantNotFoundError);
    expect(await late.list()).toEqual([]);
    expect(await rowOf(g.id)).toEqual({ uses: 1, status: 'EXPIRED' });
    expect(await rowOf(expired.id)).toEqual({ uses: 0, status: 'EXPIRED' });
  });

  it('revokes an active grant once; an unknown, revoked or used-up one is GrantNotFoundError', async () => {
    const { a, b } = replicas();
    const g = await a.grant({ action: 'payments.initiate', maxUses: 2 }, 'alice');
    const once = await a.grant({ action: 'payments.initiate' }, 'alice');
    expect(await b.revoke(g.id)).toEqual({ ...g, status: 'REVOKED' });
    const again = await a.revoke(g.id).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(GrantNotFoundError);
    expect((again as GrantNotFoundError).grantId).toBe(g.id);
    expect((again as Error).message).toBe(
      (() => {
        try {
          new GrantBook('x').revoke(g.id);
        } catch (error) {
          return (error as Error).message;
        }
      })(),
    );
    await expect(a.revoke('no-such-grant')).rejects.toBeInstanceOf(GrantNotFoundError);
    expect((await b.use(call()))?.id).toBe(once.id);
    await expect(b.revoke(once.id)).rejects.toBeInstanceOf(GrantNotFoundError);
    expect(await a.use(call())).toBeNull();
  });

  it('lists the active grants of its tenant, oldest first', async () => {
    const { tenant } = replicas();
    let clock = Date.now();
    const at = () => clock;
    const ctx = () => new PostgresContext({ pool: db.pool, schema: db.schema });
    const a = new PostgresGrantStore(ctx(), tenant, { now: at });
    const b = new PostgresGrantStore(ctx(), tenant, { now: at });
    const other = new PostgresGrantStore(ctx(), `${tenant}-other`, { now: at });
    const given: GrantRecord[] = [];
    for (let i = 0; i < 6; i++) {
      given.push(await (i % 2 === 0 ? b : a).grant({ action: `act.n${5 - i}` }, 'alice'));
      clock += 1000;
    }
    await other.grant({ action: 'act.other' }, 'alice');
    await a.revoke(given[1].id);
    expect(await b.use(call({ action: 'act.n1' }))).not.toBeNull(); // given[4], used up
    expect((await a.list()).map((g) => g.action)).toEqual(['act.n5', 'act.n3', 'act.n2', 'act.n0']);
    expect(await b.list()).toEqual([given[0], given[2], given[3], given[5]]);
  });

  it('refuses more than maxGrants active grants, with GrantBook’s message', async () => {
    const { a, b, tenant } = replicas({ maxGrants: 2 });
    await a.grant({ action: 'a.one' }, 'alice');
    await b.grant({ action: 'a.two' }, 'alice');
    const book = new GrantBook(tenant, { maxGrants: 2 });
    book.grant({ action: 'a.one' }, 'alice');
    book.grant({ action: 'a.two' }, 'alice');
    const expected = (() => {
      try {
        book.grant({ action: 'a.three' }, 'alice');
      } catch (error) {
        return error as Error;
      }
    })();
    const got = await a.grant({ action: 'a.three' }, 'alice').catch((error: Error) => error);
    expect(expected).toBeInstanceOf(ProvenanceError);
    expect(got).toBeInstanceOf(ProvenanceError);
    expect((got as Error).message).toBe(expected?.message);
    expect(await b.list()).toHaveLength(2);
  });

  it('rejects every operation when the database cannot be reached (no grant, no null)', async () => {
    const pool = db.newPool();
    const context = new PostgresContext({ pool, schema: db.schema });
    const store = new PostgresGrantStore(context, 'tenant-down');
    await context.ready();
    await pool.end();
    await expect(store.use(call())).rejects.toBeInstanceOf(ProvenanceError);
    await expect(store.list()).rejects.toThrow(/cannot read or write the grants/);
    await expect(store.revoke('x')).rejects.toThrow(/cannot read or write the grants/);
    await expect(store.grant({ action: 'a.b' }, 'alice')).rejects.toThrow(
      /cannot read or write the grants/,
    );
  });

  it('lets an engine allow an escalated call by a grant another replica gave, once per use', async () => {
    const { a, b, tenant, contextA, contextB } = replicas();
    const policy = {
      name: 'grants',
      rules: [{ action: 'payments.*', on_match: 'ESCALATE' as const, reason: 'needs a human' }],
    };
    const started: Array<{ replica: PostgresReplica; engine: ProvenanceEngine }> = [];
    const engineOn = (context: PostgresContext, store: PostgresGrantStore) => {
      const replica = new PostgresReplica(context);
      const built = createEngine({
        policy,
        tenantId: tenant,
        escalationTimeoutMs: 1,
        audit: { store: 'memory' },
        stores: ({ tenantId }) => ({
          grants: store,
          escalations: new PostgresEscalationStore(context, { tenantId, replica }),
        }),
      });
      started.push({ replica, engine: built.engine });
      return built;
    };
    const one = engineOn(contextA, a);
    const two = engineOn(contextB, b);
    try {
      const grant = await one.engine.grant({ action: 'payments.initiate', maxUses: 1 }, 'alice');
      expect(await two.engine.grants()).toEqual([grant]);
      const allowed = await two.engine.execute(request());
      expect(allowed).toMatchObject({
        decision: 'ALLOW',
        reason: `Allowed by grant ${grant.id} from alice`,
        actorHumanId: 'alice',
      });
      // Used up: the next call is held, and expires.
      const held = await one.engine.execute(request());
      expect(held).toMatchObject({ decision: 'BLOCK', escalationOutcome: 'expired' });
      expect(await rowOf(grant.id)).toEqual({ uses: 1, status: 'USED_UP' });
      expect((await two.audit.list({})).map((event) => event.kind)).toEqual(['grant.used']);
    } finally {
      for (const { engine, replica } of started) {
        await engine.close();
        await replica.close();
      }
    }
  });
});
