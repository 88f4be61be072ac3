import { createServer, Socket, type Server } from 'node:net';
import { createEngine } from '../../../lib/engine/engine.factory';
import type { HoldEvent } from '../../../lib/engine/escalation/escalation-holds';
import type { PolicyDocument } from '../../../lib/engine/policy/policy.types';
import type { ProvenanceEngine } from '../../../lib/engine/provenance-engine';
import { PostgresAuditStore } from '../../../lib/postgres/postgres-audit-store';
import { PostgresContext } from '../../../lib/postgres/postgres-context';
import { PostgresEscalationStore } from '../../../lib/postgres/postgres-escalation-store';
import { PostgresGrantStore } from '../../../lib/postgres/postgres-grant-store';
import { PostgresReplica } from '../../../lib/postgres/postgres-replica';
import { Decision } from '../../../lib/protocol/decision';
import type {
  EscalationTicket,
  GatewayRequest,
  GatewayResponse,
} from '../../../lib/protocol/gateway.types';
import { TEST_DATABASE_URL, type PostgresTestContext } from '../../fixtures/postgres.fixture';

/**
 * Replicas of one gateway in one jest process: each its own PostgresContext
 * (its own pool), PostgresReplica, escalation, grant and audit stores, all
 * on the test file's schema and one tenant.
 */
export const TENANT = 'tenant-escalations';
export const AGENT = 'billing-agent';

export const POLICY: PolicyDocument = {
  name: 'escalations',
  rules: [
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 100 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
      reason: 'Small payments are fine',
      violation_reason: 'Payments over 100 need a human',
    },
    { action: '*', on_match: 'BLOCK', reason: 'Not allowed' },
  ],
};

export interface ReplicaOptions {
  escalationTimeoutMs?: number;
  pollIntervalMs?: number;
  sweepIntervalMs?: number;
  listenRetryMs?: number;
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** Another way to the database (a DbProxy's URL). */
  connectionString?: string;
}

export interface TestReplica {
  name: string;
  context: PostgresContext;
  replica: PostgresReplica;
  store: PostgresEscalationStore;
  grants: PostgresGrantStore;
  engine: ProvenanceEngine;
  /** Every escalation step this replica's engine announced, in order. */
  events: HoldEvent[];
  /** Engines of engineWithTimeout, closed with this one. */
  extraEngines: ProvenanceEngine[];
}

/** Starts replicas on `db`'s schema; every one still running is closed after each test. */
export function useReplicas(db: PostgresTestContext): {
  start(name: string, options?: ReplicaOptions): Promise<TestReplica>;
  stop(replica: TestReplica): Promise<void>;
} {
  const running = new Set<TestReplica>();
  const stop = async (r: TestReplica): Promise<void> => {
    running.delete(r);
    await r.engine.close().catch(() => undefined);
    await Promise.all(r.extraEngines.map((engine) => engine.close().catch(() => undefined)));
    await r.replica.close();
    await r.context.close();
  };
  afterEach(async () => {
    await Promise.all(Array.from(running, stop));
  });
  return {
    async start(name, options = {}) {
      const context = new PostgresContext({
        connectionString: options.connectionString ?? TEST_DATABASE_URL,
        schema: db.schema,
      });
      const replica = new PostgresReplica(context, {
        heartbeatMs: options.heartbeatMs ?? 100,
        staleAfterMs: options.staleAfterMs ?? 2000,
        description: `test replica ${name}`,
      });
      const store = new PostgresEscalationStore(context, {
        tenantId: TENANT,
        replica,
        pollIntervalMs: options.pollIntervalMs ?? 200,
        sweepIntervalMs: options.sweepIntervalMs ?? 200,
        listenRetryMs: options.listenRetryMs,
      });
      const grants = new PostgresGrantStore(context, TENANT);
      const { engine } = createEngine({
        policy: POLICY,
        audit: { store: new PostgresAuditStore(context, TENANT) },
        stores: () => ({ escalations: store, grants }),
        tenantId: TENANT,
        escalationTimeoutMs: options.escalationTimeoutMs ?? 20_000,
      });
      const events: HoldEvent[] = [];
      engine.onEscalation((event) => events.push(event));
      const r = { name, context, replica, store, grants, engine, events, extraEngines: [] };
      running.add(r);
      await store.start();
      return r;
    },
    stop,
  };
}

/**
 * Another engine on the same replica, store and pool, with its own deadline
 * (the engine fixes one for all its calls): calls that expire on this
 * replica's timers while the others wait. Closed with the replica.
 */
export function engineWithTimeout(r: TestReplica, escalationTimeoutMs: number): ProvenanceEngine {
  const { engine } = createEngine({
    policy: POLICY,
    audit: { store: new PostgresAuditStore(r.context, TENANT) },
    stores: () => ({ escalations: r.store, grants: r.grants }),
    tenantId: TENANT,
    escalationTimeoutMs,
  });
  r.extraEngines.push(engine);
  return engine;
}

export function payment(amount: number, session = 'session-1'): GatewayRequest {
  return {
    sessionId: session,
    agentId: AGENT,
    action: 'payments.initiate',
    parameters: { amount, currency: 'EUR', to: `acct-${amount}` },
    decision: Decision.ALLOW,
  };
}

/** A call the policy escalates: its ticket once held, and its answer. */
export function escalate(
  engine: ProvenanceEngine,
  request: GatewayRequest,
): { held: Promise<EscalationTicket>; answer: Promise<GatewayResponse> } {
  let onHeld!: (ticket: EscalationTicket) => void;
  const held = new Promise<EscalationTicket>((resolve) => (onHeld = resolve));
  const answer = engine.execute(request, { onEscalated: onHeld });
  // A rejection is asserted by the test that expects it; never unhandled.
  answer.catch(() => undefined);
  return { held, answer };
}

/** Resolves with the first of `r`'s escalation steps that matches (including those seen already). */
export function stepOf(r: TestReplica, test: (event: HoldEvent) => boolean): Promise<HoldEvent> {
  const seen = r.events.find(test);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise((resolve) => {
    const off = r.engine.onEscalation((event) => {
      if (!test(event)) return;
      off();
      resolve(event);
    });
  });
}

/** The steps `r` announced for one escalation, as their types. */
export function stepsFor(r: TestReplica, escalationId: string): string[] {
  return r.events.filter((event) => event.record.id === escalationId).map((event) => event.type);
}

export interface AuditRowOfEscalation {
  id: string;
  kind: string;
  decision: string;
  actor_human_id: string | null;
  position: string;
}

/** The audit events of one escalation, in chain order. */
export async function auditOf(
  db: PostgresTestContext,
  escalationId: string,
): Promise<AuditRowOfEscalation[]> {
  const result = await db.pool.query<AuditRowOfEscalation>(
    `SELECT id, kind, decision, actor_human_id, position FROM "${db.schema}".audit_events
      WHERE tenant_id = $1 AND escalation_id = $2 ORDER BY position`,
    [TENANT, escalationId],
  );
  return result.rows;
}

/** Polls `check` every 20 ms until it holds (a condition in the database, not a fixed sleep). */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A TCP proxy in front of the test database: `cut()` drops every connection
 * through it and refuses new ones (the database is down, as this replica
 * sees it); `restore()` lets connections through again.
 */
export class DbProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private up = true;
  port = 0;

  get connectionString(): string {
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async open(): Promise<void> {
    const target = new URL(TEST_DATABASE_URL);
    this.server = createServer((client) => {
      if (!this.up) {
        client.destroy();
        return;
      }
      const upstream = new Socket();
      upstream.connect(Number(target.port || 5432), target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.up = false;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
