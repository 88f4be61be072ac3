import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { MemoryAuditStore } from '../../../lib/engine/audit/audit-log.memory-store';
import {
  GENESIS_HASH,
  computeEventHash,
  prepareEvent,
  type AuditEvent,
  type AuditEventInput,
} from '../../../lib/engine/audit/audit-event';
import type { AuditQuery } from '../../../lib/engine/audit/audit-query';
import { AuditStoreError } from '../../../lib/engine/audit/audit.errors';
import { appendChainedWithin } from '../../../lib/postgres/postgres-audit-append';
import { PostgresAuditStore } from '../../../lib/postgres/postgres-audit-store';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { canonicalJson, sha256Hex } from '../../../lib/protocol/canonical-json';
import {
  TEST_DATABASE_URL,
  describeWithPostgres,
  usePostgres,
} from '../../fixtures/postgres.fixture';

describeWithPostgres('PostgresAuditStore: the audit chain in PostgreSQL', () => {
  const db = usePostgres();
  let context: PostgresContext;
  let s: string;
  let tenants = 0;
  const contexts: PostgresContext[] = [];
  const logs: AuditLog[] = [];

  beforeAll(async () => {
    context = new PostgresContext({ pool: db.pool, schema: db.schema });
    await context.ready();
    s = context.schema;
  });

  afterAll(async () => {
    await Promise.all(logs.map((log) => log.close().catch(() => undefined)));
    await Promise.all(contexts.map((c) => c.close()));
  });

  /** A tenant of its own for each test (tenants share the schema). */
  const newTenant = () => `tenant-${++tenants}`;

  const logFor = (tenant: string, on: PostgresContext = context) => {
    const log = new AuditLog({ store: new PostgresAuditStore(on, tenant) });
    logs.push(log);
    return log;
  };

  const input = (
    tenant: string,
    i: number,
    extra: Partial<AuditEventInput> = {},
  ): AuditEventInput => ({
    tenantId: tenant,
    sessionId: `session-${i % 3}`,
    agentId: `agent-${i % 2}`,
    action: i % 4 === 0 ? 'payments.refund' : 'files.read',
    parameters: { i, note: `call ${i}` },
    decision: i % 5 === 0 ? 'BLOCK' : 'ALLOW',
    reason: `rule ${i % 7}`,
    kind: 'decision',
    ...extra,
  });

  const rowsOf = async (tenant: string) =>
    (
      await db.pool.query<{
        position: string;
        prev_hash: string;
        hash: string;
        parameters: string;
      }>(
        `SELECT position, prev_hash, hash, parameters FROM ${s}.audit_events
         WHERE tenant_id = $1 ORDER BY position`,
        [tenant],
      )
    ).rows;

  it('an AuditLog over the store goes shared, chains in the database and verifies', async () => {
    const tenant = newTenant();
    const log = logFor(tenant);
    const appended: AuditEvent[] = await Promise.all([
      log.append(input(tenant, 0)),
      log.append(input(tenant, 1, { kind: 'escalation.pending', escalationId: 'esc-1' })),
      log.append(
        input(tenant, 2, {
          kind: 'escalation.approved',
          escalationId: 'esc-1',
          actorHumanId: 'alice',
          approverReason: null,
        }),
      ),
      log.append(input(tenant, 3, { approverReason: 'looks fine' })),
    ]);
    for (const event of await Promise.all([1, 2, 3].map((i) => log.append(input(tenant, i))))) {
      appended.push(event);
    }
    expect(appended.map((e) => e.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(appended[0].prevHash).toBe(GENESIS_HASH);

    const rows = await rowsOf(tenant);
    expect(rows.map((r) => Number(r.position))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    rows.forEach((row, i) => {
      expect(row.hash).toBe(appended[i].hash);
      expect(row.prev_hash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1].hash);
    });
    const head = await db.pool.query(
      `SELECT position, hash FROM ${s}.audit_heads WHERE tenant_id = $1`,
      [tenant],
    );
    expect(head.rows).toEqual([{ position: '6', hash: appended[6].hash }]);

    const verification = await log.verify();
    expect(verification).toMatchObject({ valid: true, eventsChecked: 7, violations: [] });
    expect(verification.anchor).toEqual({ position: 6, hash: appended[6].hash });

    // Read back exactly as appended, approverReason absent / null / set alike.
    const read = await log.list();
    expect(read).toStrictEqual(appended.map((e) => ({ ...e })));
    expect('approverReason' in read[0]).toBe(false);
    expect(read[2].approverReason).toBeNull();
    expect(read[3].approverReason).toBe('looks fine');
    for (const event of read) expect(computeEventHash(event)).toBe(event.hash);
  });

  it('a second log (another replica) continues the chain; a fresh one opens at the head', async () => {
    const tenant = newTenant();
    const first = logFor(tenant);
    const second = logFor(tenant);
    await first.append(input(tenant, 0));
    await second.append(input(tenant, 1)); // opens at position 0
    await first.append(input(tenant, 2)); // its cached head is stale: chained under the lock
    await second.append(input(tenant, 3));
    expect((await rowsOf(tenant)).map((r) => Number(r.position))).toEqual([0, 1, 2, 3]);
    const third = logFor(tenant);
    await third.open();
    expect(third.size).toBe(4);
    expect(third.last?.hash).toBe((await rowsOf(tenant))[3].hash);
    expect(await third.verify()).toMatchObject({ valid: true, eventsChecked: 4 });
    expect(await third.count()).toBe(4);
  });

  it('parameters are stored as their exact canonical text (NUL, unicode, nesting, big numbers)', async () => {
    const tenant = newTenant();
    const log = logFor(tenant);
    const samples: Array<Record<string, unknown>> = [
      { text: 'nul\u0000inside', tab: '\t', quote: '"\\' },
      {
        unicode: 'é ü 漢字 \u{1F600} \u202Eltr',
        lone: 'half \ud800 pair',
        key: { ключ: 'значение' },
      },
      { deep: { a: [1, { b: [2, { c: { d: [null, true, false, 'x'] } }] }] }, empty: {}, list: [] },
      {
        max: Number.MAX_SAFE_INTEGER,
        min: -Number.MAX_SAFE_INTEGER,
        big: 2 ** 60,
        huge: 1e21,
        float: 1.5e300,
        tiny: 5e-324,
        negativeZero: -0,
        fraction: 0.1,
      },
      { zzz: 1, aaa: 2, AAA: 3, _: 4, '\u00e9': 5, e: 6 },
    ];
    const events: AuditEvent[] = [];
    for (const parameters of samples)
      events.push(await log.append({ ...input(tenant, 0), parameters }));
    events.push(await log.append({ ...input(tenant, 1), parameters: null }));

    const rows = await rowsOf(tenant);
    samples.forEach((parameters, i) => {
      const expected = canonicalJson(parameters);
      expect(rows[i].parameters).toBe(expected);
      expect(sha256Hex(rows[i].parameters)).toBe(events[i].payloadHash);
      expect(sha256Hex(rows[i].parameters)).toBe(sha256Hex(canonicalJson(events[i].parameters)));
    });
    expect(rows[samples.length].parameters).toBe('null');
    expect(rows[0].parameters).toContain('\\u0000');

    const read = await log.list();
    read.forEach((event, i) => {
      expect(event.parameters).toEqual(events[i].parameters);
      expect(sha256Hex(canonicalJson(event.parameters))).toBe(events[i].payloadHash);
    });
    expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: samples.length + 1 });
  });

  it('an event PostgreSQL text cannot hold exactly is refused whole; the chain goes on', async () => {
    const tenant = newTenant();
    const log = logFor(tenant);
    await log.append(input(tenant, 0));
    await expect(log.append({ ...input(tenant, 1), reason: 'a\u0000b' })).rejects.toThrow(
      AuditStoreError,
    );
    await expect(log.append({ ...input(tenant, 1), sessionId: 'lone \udc00' })).rejects.toThrow(
      /unpaired surrogate/,
    );
    await expect(log.append({ ...input(tenant, 1), tenantId: 'someone-else' })).rejects.toThrow(
      /tenant "someone-else"/,
    );
    await log.append(input(tenant, 2));
    expect((await rowsOf(tenant)).map((r) => Number(r.position))).toEqual([0, 1]);
    expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: 2 });
  });

  describe('a row edited in the database is reported', () => {
    const tenDecisions = async () => {
      const tenant = newTenant();
      const log = logFor(tenant);
      const events = await Promise.all(
        Array.from({ length: 10 }, (_, i) => log.append(input(tenant, i))),
      );
      expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: 10 });
      return { tenant, log, events };
    };

    it('UPDATE of a reason: hash-mismatch at that position', async () => {
      const { tenant, log, events } = await tenDecisions();
      await db.pool.query(
        `UPDATE ${s}.audit_events SET reason = 'nothing to see' WHERE tenant_id = $1 AND position = 4`,
        [tenant],
      );
      const verification = await log.verify();
      expect(verification.valid).toBe(false);
      expect(verification.firstBrokenPosition).toBe(4);
      expect(verification.violations).toEqual([
        expect.objectContaining({ position: 4, problem: 'hash-mismatch', eventId: events[4].id }),
      ]);
    });

    it('DELETE of a middle row: the gap is found there', async () => {
      const { tenant, log, events } = await tenDecisions();
      await db.pool.query(`DELETE FROM ${s}.audit_events WHERE tenant_id = $1 AND position = 5`, [
        tenant,
      ]);
      const verification = await log.verify();
      expect(verification.valid).toBe(false);
      expect(verification.eventsChecked).toBe(9);
      expect(verification.firstBrokenPosition).toBe(5);
      const problems = verification.violations.map((v) => [v.position, v.problem, v.eventId]);
      expect(problems).toEqual([
        [5, 'position-gap', events[6].id],
        [5, 'prev-hash-mismatch', events[6].id],
      ]);
    });

    it('DELETE of the last rows: truncated against the head row', async () => {
      const { tenant, log } = await tenDecisions();
      await db.pool.query(`DELETE FROM ${s}.audit_events WHERE tenant_id = $1 AND position >= 8`, [
        tenant,
      ]);
      const verification = await log.verify();
      expect(verification.valid).toBe(false);
      expect(verification.violations).toEqual([
        expect.objectContaining({ problem: 'truncated', expected: 9, actual: 7 }),
      ]);
    });

    it('parameters rewritten to an equal but non-canonical text, or to no JSON at all', async () => {
      const { tenant, log, events } = await tenDecisions();
      await db.pool.query(
        `UPDATE ${s}.audit_events SET parameters = $2 WHERE tenant_id = $1 AND position = 2`,
        [tenant, '{"i": 2, "note": "call 2"}'],
      );
      await db.pool.query(
        `UPDATE ${s}.audit_events SET parameters = '{"i":' WHERE tenant_id = $1 AND position = 7`,
        [tenant],
      );
      const verification = await log.verify();
      expect(verification.valid).toBe(false);
      expect(verification.violations.map((v) => [v.position, v.problem, v.eventId])).toEqual([
        // The hash covers the stored bytes: an equal JSON in other bytes does not hash the same.
        [2, 'hash-mismatch', events[2].id],
        [7, 'malformed', events[7].id],
        // The malformed row carries no hash the next row could be checked against.
        [8, 'prev-hash-mismatch', events[8].id],
      ]);
    });

    it('the head row moved back: the next append refuses to fork, opening refuses', async () => {
      const { tenant, log, events } = await tenDecisions();
      await db.pool.query(
        `UPDATE ${s}.audit_heads SET position = 3, hash = $2 WHERE tenant_id = $1`,
        [tenant, events[3].hash],
      );
      // The primary key (tenant, position) keeps a second event out of position 4.
      await expect(log.append(input(tenant, 10))).rejects.toThrow(AuditStoreError);
      expect((await rowsOf(tenant)).map((r) => r.hash)).toEqual(events.map((e) => e.hash));
      await db.pool.query(
        `UPDATE ${s}.audit_heads SET position = 9, hash = 'not the hash' WHERE tenant_id = $1`,
        [tenant],
      );
      await expect(logFor(tenant).open()).rejects.toThrow(/head row names position 9/);
    });
  });

  describe('list and count in SQL answer as the in-memory log does', () => {
    const tenant = 'query-tenant';
    let store: PostgresAuditStore;
    let memory: AuditLog;
    let events: AuditEvent[];

    beforeAll(async () => {
      store = new PostgresAuditStore(context, tenant);
      await store.openHead();
      // Timestamps spread over time (and one batch per tick), so since/until cut somewhere.
      events = [];
      for (let batch = 0; batch < 5; batch++) {
        const when = new Date(Date.UTC(2030, 0, 1 + batch, 12));
        const prepared = Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i;
          return prepareEvent(
            input(tenant, n, {
              kind: n % 11 === 0 ? 'escalation.pending' : 'decision',
              escalationId: n % 11 === 0 ? `esc-${n % 3}` : null,
            }),
            new Date(when.getTime() + i),
          );
        });
        events.push(...(await store.appendUnchained(prepared)));
      }
      const kept = new MemoryAuditStore();
      await kept.append(events);
      memory = new AuditLog({ store: kept });
      logs.push(memory);
    });

    const queries: AuditQuery[] = [
      {},
      { limit: 10 },
      { limit: 0 },
      { limit: 3.7 },
      { limit: -1 },
      { offset: 995, limit: 10 },
      { offset: 2490 },
      { offset: 5000 },
      { offset: -5, limit: 2 },
      { sessionId: 'session-1' },
      { sessionId: 'session-1', limit: 7 },
      { sessionId: 'session-2', offset: 1200, limit: 25 },
      { agentId: 'agent-0', action: 'payments.refund', limit: 40 },
      { action: 'files.read', decision: 'BLOCK' },
      { decision: 'ESCALATE' },
      { kind: 'escalation.pending' },
      { escalationId: 'esc-2', limit: 5 },
      { escalationId: 'no-such' },
      { since: '2030-01-03T12:00:00.100Z' },
      { until: new Date(Date.UTC(2030, 0, 2, 12, 0, 0, 250)) },
      { since: '2030-01-02T00:00:00Z', until: '2030-01-04T12:00:00.010Z', sessionId: 'session-0' },
      { since: '2030-01-02T12:00:00.499Z', until: '2030-01-02T12:00:00.499Z' },
      { since: 'not a date', limit: 3 },
      { since: '+010000-01-01T00:00:00.000Z' },
      { until: '-000001-01-01T00:00:00.000Z' },
      { until: '+010000-01-01T00:00:00.000Z', offset: 2498 },
    ];

    it.each(queries.map((query) => [JSON.stringify(query), query]))('%s', async (_name, query) => {
      const expected = await memory.list(query);
      const found = await store.list(query);
      expect(found.map((e) => e.position)).toEqual(expected.map((e) => e.position));
      expect(found).toStrictEqual(expected.map((e) => ({ ...e })));
      const { limit: _limit, ...counted } = query;
      expect(await store.count(counted)).toBe(await memory.count(counted));
    });

    it('the queries above are not all trivial', async () => {
      const sizes = await Promise.all(
        queries.map(async (query) => (await memory.list(query)).length),
      );
      expect(new Set(sizes).size).toBeGreaterThan(10);
      expect(await memory.count({ since: '2030-01-03T12:00:00.100Z' })).toBe(1400);
    });

    it('readEvents pages through the whole chain in order, from any position', async () => {
      const all: number[] = [];
      for await (const event of store.readEvents(0)) all.push(event.position);
      expect(all).toEqual(events.map((e) => e.position));
      const tail: string[] = [];
      for await (const event of store.readEvents(1999)) tail.push(event.id);
      expect(tail).toEqual(events.slice(1999).map((e) => e.id));
      const log = logFor(tenant);
      expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: 2500 });
    });
  });

  describe('a database that goes away', () => {
    const SECRET = 'hunter2-secret-pw';
    const urlWith = (changes: (url: URL) => void) => {
      const url = new URL(TEST_DATABASE_URL);
      url.password = SECRET; // trust auth ignores it; it must never be printed
      changes(url);
      return url.toString();
    };

    it('nothing listening: the append rejects naming the store, never the password', async () => {
      const gone = new PostgresContext({
        connectionString: urlWith((url) => (url.port = '1')),
        schema: db.schema,
      });
      contexts.push(gone);
      const log = logFor('gone-tenant', gone);
      const error = (await log.append(input('gone-tenant', 0)).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(AuditStoreError);
      expect(error.message).toContain(`postgres ${db.schema} (tenant gone-tenant)`);
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(SECRET);
    });

    it('its connections terminated mid-append: rejects, nothing stored; the next append chains', async () => {
      const tenant = newTenant();
      const name = `audit-${tenant}-${process.pid}`;
      const own = new PostgresContext({
        connectionString: urlWith((url) => url.searchParams.set('application_name', name)),
        schema: db.schema,
      });
      contexts.push(own);
      const log = logFor(tenant, own);
      const before = await Promise.all([0, 1, 2].map((i) => log.append(input(tenant, i))));

      // Hold the head row so the next append waits on it, then cut the store's connections.
      const holder = await db.pool.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${s}.audit_heads WHERE tenant_id = $1 FOR UPDATE`, [
        tenant,
      ]);
      const pending = log.append(input(tenant, 3)).then(
        () => null,
        (e: unknown) => e as Error,
      );
      await waitFor(async () => {
        const waiting = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [name],
        );
        return waiting.rows.length > 0;
      });
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
        [name],
      );
      expect(killed.rows.length).toBeGreaterThan(0);
      const error = await pending;
      await holder.query('ROLLBACK');
      holder.release();

      expect(error).toBeInstanceOf(AuditStoreError);
      expect(error?.message).toContain(`postgres ${db.schema} (tenant ${tenant})`);
      expect(error?.message).not.toContain(SECRET);
      expect((await rowsOf(tenant)).map((r) => Number(r.position))).toEqual([0, 1, 2]);

      // The database answers again: the same log appends, after the last stored event.
      const after = await log.append(input(tenant, 4));
      expect(after.position).toBe(3);
      expect(after.prevHash).toBe(before[2].hash);
      const more = await Promise.all([5, 6].map((i) => log.append(input(tenant, i))));
      expect(more.map((e) => e.position)).toEqual([4, 5]);
      expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: 6 });
    });
  });

  it('appendChainedWithin joins the caller transaction: a rollback stores nothing', async () => {
    const tenant = newTenant();
    const log = logFor(tenant);
    const first = await log.append(input(tenant, 0));
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const chained = await appendChainedWithin(client, s, tenant, [
        prepareEvent(input(tenant, 1)),
        prepareEvent(input(tenant, 2)),
      ]);
      expect(chained.map((e) => [e.position, e.prevHash])).toEqual([
        [1, first.hash],
        [2, chained[0].hash],
      ]);
      await client.query('ROLLBACK');
      await client.query('BEGIN');
      const kept = await appendChainedWithin(client, s, tenant, [prepareEvent(input(tenant, 3))]);
      await client.query('COMMIT');
      expect(kept[0]).toMatchObject({ position: 1, prevHash: first.hash });
      expect(await appendChainedWithin(client, s, tenant, [])).toEqual([]);
    } finally {
      client.release();
    }
    // The log's cached head is stale now: its next append chains under the lock.
    const next = await log.append(input(tenant, 4));
    expect(next.position).toBe(2);
    expect(await log.verify()).toMatchObject({ valid: true, eventsChecked: 3 });
  });

  it('open() and append() of chained events are refused; close() leaves the pool alone', async () => {
    const store = new PostgresAuditStore(context, newTenant());
    expect(store.description).toBe(`postgres ${db.schema} (tenant ${store.tenantId})`);
    await expect(store.open()).rejects.toThrow(/openHead/);
    await expect(store.append([])).rejects.toThrow(/appendUnchained/);
    await store.close();
    await expect(store.appendUnchained([prepareEvent(input(store.tenantId, 0))])).rejects.toThrow(
      /closed/,
    );
    expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});

/** Resolves once `check` is true (polled every 20 ms), or fails after 10 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('waitFor: still false after 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
