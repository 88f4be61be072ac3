import { hostname } from 'node:os';
import * as path from 'node:path';
import type { AuditLog } from '../engine/audit/audit-log';
import { createEngine } from '../engine/engine.factory';
import type { CompiledPolicy } from '../engine/policy/policy.types';
import type { ProvenanceEngine } from '../engine/provenance-engine';
import { PostgresContext } from '../postgres/postgres-context';
import { createPostgresEngine, type PostgresEngine } from '../postgres/postgres-engine';
import { PostgresReplica } from '../postgres/postgres-replica';
import { DEFAULT_AUDIT_DIR, type ProvenanceGatewayServerOptions } from './options';
import { serverPostgres } from './server-postgres';

/** One tenant's engine, its audit log, and (on PostgreSQL) the context its rows are in. */
export interface TenantEngine {
  engine: ProvenanceEngine;
  audit: AuditLog;
  /** Null when the state is in files or memory. */
  postgres: PostgresContext | null;
}

/**
 * Builds the server's engines, one per tenant: over audit files (or memory)
 * each of its own, or, with `postgres`, all over one PostgresContext (one
 * pool) and one PostgresReplica (this process, for the others' liveness
 * checks), which close after the last engine.
 */
export class TenantEngines {
  private readonly context: PostgresContext | null = null;
  private readonly replica: PostgresReplica | null = null;
  private readonly shared: PostgresEngine[] = [];

  constructor(private readonly options: ProvenanceGatewayServerOptions) {
    const postgres = serverPostgres(options);
    if (postgres !== null) {
      this.context = new PostgresContext(postgres);
      this.replica = new PostgresReplica(this.context, {
        description: `gateway server ${hostname()} pid ${process.pid}`,
      });
    }
  }

  /** The engine of `tenantId` under `policy`. */
  build(tenantId: string, policy: CompiledPolicy): TenantEngine {
    const { options } = this;
    const common = {
      policy,
      escalationTimeoutMs: options.escalationTimeoutMs,
      tenantId,
      allowEmptyPolicy: options.allowEmptyPolicy === true,
      maxPendingEscalations: options.maxPendingEscalations,
    };
    if (this.context !== null && this.replica !== null) {
      const built = createPostgresEngine({
        ...common,
        postgres: this.context,
        replica: this.replica,
      });
      this.shared.push(built);
      return { engine: built.engine, audit: built.audit, postgres: this.context };
    }
    const audit = options.audit ?? {};
    const { engine, audit: log } = createEngine({
      ...common,
      audit:
        audit.store === 'memory'
          ? { store: 'memory', signingKey: audit.signingKey }
          : {
              store: 'file',
              path: path.join(audit.dir ?? DEFAULT_AUDIT_DIR, `${tenantId}.audit.jsonl`),
              durable: audit.durable ?? true,
              signingKey: audit.signingKey,
            },
    });
    return { engine, audit: log, postgres: null };
  }

  /**
   * On PostgreSQL: migrates (or checks) the schema, registers this replica
   * and starts every tenant's escalation store (listening for the other
   * servers' holds and endings), so that a database that is away fails at
   * start-up rather than on the first call.
   */
  async open(): Promise<void> {
    for (const built of this.shared) await built.start();
  }

  /** After every engine closed: the replica's row, then the pool (when the library made it). Idempotent. */
  async close(): Promise<void> {
    await this.replica?.close();
    await this.context?.close();
  }
}
