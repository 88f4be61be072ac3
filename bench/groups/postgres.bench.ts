import * as os from 'node:os';
import * as path from 'node:path';
import type { Budget } from '../bench.budget';
import { atLeast, atMost, figure, type Figure, type GroupReport } from '../bench.figures';
import type { LoadResult } from '../bench.load';
import { median, nowNs, percentile, sleep } from '../bench.stats';
import { BenchDatabase, shownDatabaseUrl, type DatabaseWork } from '../postgres.database';
import { ReplicaHandle } from '../postgres-replica';
import { ALLOWED_PAYMENT, ESCALATED_PAYMENT } from '../sample.workload';

/**
 * The gated call with every piece of state in PostgreSQL, on one and on two
 * replica processes sharing one schema and tenant (one audit chain).
 *
 * Each replica (bench/postgres-replica.worker.ts) is its own Node process
 * with a Nest application context importing
 * `ProvenanceModule.forRoot({ agentId, policy: sample, postgres: { connectionString, schema } })`;
 * calls are `gateway.execute` in `runInSession`, as in the `gated` group.
 * This process only drives them (IPC) and reads the server's counters.
 *
 * Approval latency: replica A holds an escalating call; this process sends
 * "decide" to replica B (which approves through its transport, the
 * reviewer's path) and stops the clock when A's message that its call
 * resolved ALLOW arrives. One clock (this process's hrtime), nothing
 * subtracted: the figure includes two IPC hops (parent → B, A → parent; a
 * Node IPC round trip is ~0.16 ms on the bench machine).
 */
const GROUP = 'postgres';

/** Escalations measured (after a few unmeasured ones). */
const APPROVALS = { warmup: 5, measured: 100, quick: 10 };
/** Pause between a call being held and its approval being sent, so the hold has settled. */
const SETTLE_MS = 5;

interface Round {
  load: LoadResult[];
  wallSeconds: number;
  work: DatabaseWork;
}

export async function run(budget: Budget): Promise<GroupReport> {
  const started = Date.now();
  const context: GroupReport['context'] = {
    database: shownDatabaseUrl(),
    call: `${ALLOWED_PAYMENT.action} (ALLOW after 2 conditions)`,
    escalated: `${ESCALATED_PAYMENT.action} (ESCALATE: amount over 500)`,
  };
  let db: BenchDatabase;
  try {
    db = await BenchDatabase.connect();
  } catch (error) {
    context.skipped = `PostgreSQL at ${shownDatabaseUrl()} did not answer (${
      error instanceof Error ? error.message : String(error)
    }): group skipped`;
    process.stderr.write(`bench: postgres: ${context.skipped}\n`);
    return { group: GROUP, figures: [], context, seconds: (Date.now() - started) / 1000 };
  }
  const replicas: ReplicaHandle[] = [];
  try {
    Object.assign(context, {
      server: `PostgreSQL ${db.settings.version}`,
      commit: `synchronous_commit ${db.settings.synchronous_commit}, fsync ${db.settings.fsync} (${db.settings.wal_sync_method}), commit_delay ${db.settings.commit_delay}`,
      schema: db.schema,
      cores: os.cpus().length,
    });
    await db.createSchema();
    const configOf = (name: string) => ({
      name,
      connectionString: db.connectionFor(name),
      schema: db.schema,
    });
    const profileDir = cpuProfileDir();
    // One at a time: both would migrate the same fresh schema at once.
    const a = await ReplicaHandle.start('A', configOf('A'), profileDir);
    replicas.push(a);
    await a.load(1, 50);
    const b = await ReplicaHandle.start('B', configOf('B'), profileDir);
    replicas.push(b);
    const figures = await measureAll(db, a, b, budget, context);
    context.auditedEvents = await db.auditEvents();
    return { group: GROUP, figures, context, seconds: (Date.now() - started) / 1000 };
  } finally {
    await Promise.all(replicas.map((replica) => replica.close()));
    await db.dropAndClose();
  }
}

async function measureAll(
  db: BenchDatabase,
  a: ReplicaHandle,
  b: ReplicaHandle,
  budget: Budget,
  context: GroupReport['context'],
): Promise<Figure[]> {
  const { warmupMs, roundMs, rounds } = budget;
  await Promise.all([a.load(64, warmupMs), b.load(64, warmupMs)]);
  await a.load(1, warmupMs / 2);
  const c1: number[] = [];
  const r1: Round[] = [];
  const r2: Round[] = [];
  const floor = { roundTrip: [] as number[], commit: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const measured = await db.floor(roundMs / 8);
    floor.roundTrip.push(...measured.roundTrip);
    floor.commit.push(...measured.commit);
    c1.push(...(await a.load(1, roundMs / 2, true)).latencies);
    r1.push(await measureRound(db, [a], roundMs));
    r2.push(await measureRound(db, [a, b], roundMs));
  }
  const approvals = await measureApprovals(a, b, budget.quick);
  const calls = (rs: Round[]) => rs.reduce((n, r) => n + r.load.reduce((m, l) => m + l.ops, 0), 0);
  context.measuredCalls = c1.length + calls(r1) + calls(r2);
  context.approvals = approvals.total.length;
  const ms = (ns: number) => ns / 1e6;
  return [
    ...roundFigures('r1', '1 replica', r1, undefined),
    ...roundFigures('r2', '2 replicas (64 each), total', r2, 10_000),
    figure(GROUP, 'c1.p50', '1 replica, concurrency 1: latency p50', ms(percentile(c1, 50)), 'ms', {
      target: atMost(1.5, 'ms'),
      note: `${c1.length} calls`,
    }),
    figure(GROUP, 'c1.p99', '1 replica, concurrency 1: latency p99', ms(percentile(c1, 99)), 'ms'),
    figure(
      GROUP,
      'floor.roundTrip.p50',
      'floor: SELECT 1 from this process, p50',
      ms(median(floor.roundTrip)),
      'ms',
    ),
    figure(
      GROUP,
      'floor.commit.p50',
      'floor: one-row INSERT, autocommit (round trip + commit), p50',
      ms(median(floor.commit)),
      'ms',
    ),
    figure(
      GROUP,
      'approval.p50',
      'approved on replica B → held call on A resolves: p50',
      ms(percentile(approvals.total, 50)),
      'ms',
      { target: atMost(20, 'ms'), note: `${approvals.total.length} approvals` },
    ),
    figure(
      GROUP,
      'approval.p99',
      'approved on replica B → held call on A resolves: p99',
      ms(percentile(approvals.total, 99)),
      'ms',
    ),
    figure(
      GROUP,
      'approval.decide.p50',
      "approval: B's decide() alone (ending transaction), p50",
      median(approvals.decide),
      'ms',
    ),
  ];
}

/** The replicas' closed loops at concurrency 64 at the same time, and what the server did meanwhile. */
async function measureRound(
  db: BenchDatabase,
  replicas: ReplicaHandle[],
  ms: number,
): Promise<Round> {
  const before = await db.snapshot();
  const start = nowNs();
  const load = await Promise.all(replicas.map((replica) => replica.load(64, ms)));
  const wallSeconds = Number(nowNs() - start) / 1e9;
  return { load, wallSeconds, work: await db.workSince(before) };
}

function roundFigures(
  key: string,
  label: string,
  rounds: Round[],
  target: number | undefined,
): Figure[] {
  const ops = (r: Round) => r.load.reduce((n, l) => n + l.ops, 0);
  // Calls of every replica over this process's wall time around them all: never flattering.
  const rate = rounds.map((r) => ops(r) / r.wallSeconds);
  const cpu = rounds.map((r) => r.load.reduce((n, l) => n + l.cpuUsPerCall * l.ops, 0) / ops(r));
  const share = rounds.map((r) => r.load.reduce((n, l) => n + l.cpuShare, 0));
  const perCommit = rounds.map((r) => r.work.auditEvents / Math.max(1, r.work.auditTransactions));
  const server = rounds.flatMap((r) =>
    r.work.serverCpuUs === null ? [] : [r.work.serverCpuUs / ops(r)],
  );
  const serverShare = rounds.flatMap((r) =>
    r.work.serverCpuUs === null ? [] : [r.work.serverCpuUs / 1e6 / r.wallSeconds],
  );
  const prefix = `${label}, concurrency 64`;
  const out = [
    figure(GROUP, `${key}.c64.ops`, prefix, median(rate), 'ops/s', {
      target: target === undefined ? undefined : atLeast(target, 'ops/s'),
      note: `${rounds.length} rounds, median`,
    }),
    figure(GROUP, `${key}.c64.cpu`, `${prefix}: Node CPU time per call`, median(cpu), 'µs'),
    figure(
      GROUP,
      `${key}.c64.cpuShare`,
      `${prefix}: Node CPU / wall (replicas summed)`,
      median(share),
      'ratio',
    ),
    figure(
      GROUP,
      `${key}.c64.eventsPerCommit`,
      `${prefix}: audit events per commit`,
      median(perCommit),
      'events',
    ),
  ];
  if (server.length > 0) {
    out.push(
      figure(
        GROUP,
        `${key}.c64.serverCpu`,
        `${prefix}: PostgreSQL backends' CPU per call`,
        median(server),
        'µs',
      ),
      figure(
        GROUP,
        `${key}.c64.serverCpuShare`,
        `${prefix}: PostgreSQL backends' CPU / wall`,
        median(serverShare),
        'ratio',
      ),
    );
  }
  return out;
}

/**
 * One held call at a time on A, approved on B: from the moment "decide" is
 * sent to B until A's "resolved" arrives, both on this process's clock.
 */
async function measureApprovals(
  a: ReplicaHandle,
  b: ReplicaHandle,
  quick: boolean,
): Promise<{ total: number[]; decide: number[] }> {
  const total: number[] = [];
  const decide: number[] = [];
  const count = APPROVALS.warmup + (quick ? APPROVALS.quick : APPROVALS.measured);
  for (let i = 0; i < count; i++) {
    const call = a.hold(`approval ${i}`);
    const escalationId = await call.escalationId;
    await sleep(SETTLE_MS);
    const sent = nowNs();
    const [decided, end] = await Promise.all([b.decide(escalationId), call.resolved]);
    if (end.decision !== 'ALLOW') {
      throw new Error(`approved call ${escalationId} ended ${end.decision} on A, not ALLOW`);
    }
    if (i < APPROVALS.warmup) continue;
    total.push(Number(end.at - sent));
    decide.push(decided);
  }
  return { total, decide };
}

/** The runner's --cpu-prof directory, so the replicas write their profiles next to this group's. */
function cpuProfileDir(): string | null {
  const args = process.execArgv;
  if (!args.includes('--cpu-prof')) return null;
  const at = args.indexOf('--cpu-prof-dir');
  return at >= 0 ? args[at + 1] : path.join(process.cwd(), 'bench', 'results', 'profiles');
}
