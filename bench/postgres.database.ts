import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { redactConnectionString } from '../lib/postgres/connection-string';

/** The database of the postgres group: PROVENANCE_DATABASE_URL, else the local test server. */
export const BENCH_DATABASE_URL =
  process.env.PROVENANCE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Where the bench's database is, fit to print (no password). */
export const shownDatabaseUrl = (): string => redactConnectionString(BENCH_DATABASE_URL);

/** What the database did between two snapshots. */
export interface DatabaseWork {
  /** Audit events stored meanwhile (one per gated call). */
  auditEvents: number;
  /** Transactions that stored them (distinct xmin of the new rows): the group commits. */
  auditTransactions: number;
  /**
   * CPU time of the server processes serving the replicas' connections (found
   * by their application_name), in µs; null off Linux or when the server is
   * not on this machine. Background processes (WAL writer, checkpointer) are
   * not counted: other work on the same server would be counted with them.
   */
  serverCpuUs: number | null;
}

interface Snapshot {
  /** The audit chain's head position (-1: empty). */
  position: number;
  cpuTicks: Map<number, number> | null;
}

const TICK_US = 10_000; // CLK_TCK is 100 on Linux

/**
 * The parent's own connection: checks the server answers, makes the run's
 * fresh schema (the replicas migrate it), snapshots the server's work around
 * a measurement, and drops the schema at the end.
 */
export class BenchDatabase {
  readonly schema = `bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  private constructor(
    private readonly client: Client,
    readonly settings: Record<string, string>,
  ) {}

  /** Connects and reads the settings that decide commit cost; rejects when the server does not answer. */
  static async connect(): Promise<BenchDatabase> {
    const client = new Client({
      connectionString: BENCH_DATABASE_URL,
      connectionTimeoutMillis: 3000,
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<Record<string, string>>(
        `SELECT current_setting('server_version') AS version,
                current_setting('synchronous_commit') AS synchronous_commit,
                current_setting('fsync') AS fsync,
                current_setting('wal_sync_method') AS wal_sync_method,
                current_setting('commit_delay') AS commit_delay`,
      );
      return new BenchDatabase(client, rows[0]);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** The connection string a replica uses: the bench's, tagged with an application_name of this run. */
  connectionFor(replica: string): string {
    try {
      const url = new URL(BENCH_DATABASE_URL);
      url.searchParams.set('application_name', `${this.schema}_${replica}`);
      return url.toString();
    } catch {
      return BENCH_DATABASE_URL;
    }
  }

  async createSchema(): Promise<void> {
    await this.client.query(`CREATE SCHEMA "${this.schema}"`);
  }

  /**
   * This connection's floor, one statement at a time for `ms` each: a
   * `SELECT 1` round trip, and a one-row INSERT in autocommit (round trip +
   * commit, i.e. the WAL flush). Latencies in ns.
   */
  async floor(ms: number): Promise<{ roundTrip: number[]; commit: number[] }> {
    const table = `"${this.schema}".bench_floor`;
    await this.client.query(`CREATE TABLE IF NOT EXISTS ${table} (id bigserial, v text)`);
    const time = async (text: string, values: unknown[]): Promise<number[]> => {
      const out: number[] = [];
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const start = process.hrtime.bigint();
        await this.client.query(text, values);
        out.push(Number(process.hrtime.bigint() - start));
      }
      return out;
    };
    return {
      roundTrip: await time('SELECT 1', []),
      commit: await time(`INSERT INTO ${table} (v) VALUES ($1)`, ['floor']),
    };
  }

  async snapshot(): Promise<Snapshot> {
    const { rows } = await this.client.query<{ position: string }>(
      `SELECT coalesce(max(position), -1) AS position FROM "${this.schema}".audit_heads`,
    );
    return { position: Number(rows[0].position), cpuTicks: await this.backendTicks() };
  }

  /**
   * What happened since `before`, counted in this run's schema only (the
   * server may be shared with other work, so its global counters are not used).
   */
  async workSince(before: Snapshot): Promise<DatabaseWork> {
    const cpuTicks = await this.backendTicks();
    const { rows } = await this.client.query<{ events: string; transactions: string }>(
      `SELECT count(*) AS events, count(DISTINCT xmin::text) AS transactions
         FROM "${this.schema}".audit_events WHERE position > $1`,
      [before.position],
    );
    return {
      auditEvents: Number(rows[0].events),
      auditTransactions: Number(rows[0].transactions),
      serverCpuUs:
        cpuTicks === null || before.cpuTicks === null
          ? null
          : ticksBetween(before.cpuTicks, cpuTicks) * TICK_US,
    };
  }

  /** utime + stime of each backend of this run's replicas, by pid. */
  private async backendTicks(): Promise<Map<number, number> | null> {
    const { rows } = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE starts_with(application_name, $1)`,
      [`${this.schema}_`],
    );
    const ticks = new Map<number, number>();
    for (const { pid } of rows) {
      const used = cpuTicksOf(pid);
      if (used === null) return null;
      ticks.set(pid, used);
    }
    return ticks;
  }

  /** How many audit events the run left in its schema. */
  async auditEvents(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${this.schema}".audit_events`,
    );
    return Number(rows[0].n);
  }

  /** Drops the run's schema (whatever is in it) and closes the connection. */
  async dropAndClose(): Promise<void> {
    try {
      await this.client.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    } finally {
      await this.client.end().catch(() => undefined);
    }
  }
}

/** CPU ticks the backends present at both snapshots used between them (one opened since counts whole). */
function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, used] of after) sum += used - (before.get(pid) ?? 0);
  return sum;
}

/** utime + stime of one process, in clock ticks; null where /proc does not have it. */
function cpuTicksOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(name) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}
