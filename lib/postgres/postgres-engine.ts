import { hostname } from 'node:os';
import { createEngine, type BuiltEngine, type EngineSetup } from '../engine/engine.factory';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { PostgresAuditStore } from './postgres-audit-store';
import { PostgresContext, type PostgresOptions } from './postgres-context';
import { PostgresEscalationStore } from './postgres-escalation-store';
import { PostgresGrantStore } from './postgres-grant-store';
import { PostgresIdempotencyStore } from './postgres-idempotency-store';
import { PostgresOptionMessages } from './postgres-options.messages';
import { resolvePostgresOptions } from './postgres-options';
import { PostgresReplica, type PostgresReplicaOptions } from './postgres-replica';

/** How often the stores look at the database on their own, in ms (defaults: the stores'). */
export interface PostgresEngineTiming {
  /** How often a replica checks its waiting holds' rows (a missed NOTIFY). */
  pollIntervalMs?: number;
  /** How often a replica ends expired holds of any replica. */
  sweepIntervalMs?: number;
  /** The replica's heartbeat, when the engine makes its own replica. */
  heartbeatMs?: number;
  /** When another replica's holds and claims count as abandoned, when the engine makes its own replica. */
  staleAfterMs?: number;
}

/** An engine whose state is in PostgreSQL: `createEngine`'s setup without the audit store and stores. */
export interface PostgresEngineSetup extends Omit<EngineSetup, 'audit' | 'stores'> {
  /**
   * Options (checked by resolvePostgresOptions; PROVENANCE_DATABASE_URL when
   * they name no connection), from which the engine makes,
   * and on close ends, its own context and pool (a `pool` given is never
   * ended); or a context several engines share, which the engine leaves open.
   */
  postgres: PostgresOptions | PostgresContext;
  /**
   * The replica several engines of one process share (the server's tenants);
   * left running on close. Default: one of the engine's own, closed with it.
   */
  replica?: PostgresReplica;
  timing?: PostgresEngineTiming;
  /**
   * Given: `start()` runs at once, and a failure (the database is away) is
   * handed here, unless the engine was closed meanwhile. Not given: the
   * stores start on first use, or when the caller calls `start()`.
   */
  onStartFailed?: (error: unknown) => void;
  /** A signing key is refused: checkpoints of a chain several replicas extend are not designed yet. */
  signingKey?: null;
}

/** The engine, and the database pieces it runs on (for the server's routes and for tests). */
export interface PostgresEngine extends BuiltEngine {
  context: PostgresContext;
  replica: PostgresReplica;
  escalations: PostgresEscalationStore;
  /**
   * Migrates (or checks) the schema, registers the replica, starts the
   * escalation store's poll, sweeper and listener (so other replicas' holds
   * and endings are known here before this one holds anything). Rejects
   * when the database is away; retried by the next call or use.
   */
  start(): Promise<void>;
}

/**
 * An engine that keeps everything that is state in PostgreSQL: the audit chain
 * (PostgresAuditStore), held escalations, grants and idempotency keys, each a
 * store over one context and tenant, shared by every replica that names the
 * same database, schema and tenant. Nothing connects here: the schema is
 * migrated (or checked) and the replica registered on first use.
 *
 * `engine.close()` ends this process's holds, closes the stores, then the
 * replica and the context it owns (the pool only when the library made it).
 */
export function createPostgresEngine(setup: PostgresEngineSetup): PostgresEngine {
  const {
    postgres,
    replica: sharedReplica,
    timing = {},
    signingKey,
    onStartFailed,
    ...engineSetup
  } = setup;
  if (signingKey !== undefined && signingKey !== null) {
    throw new ProvenanceConfigError(
      'audit.signingKey',
      PostgresOptionMessages.signingKeyRefused(false),
    );
  }
  const ownsContext = !(postgres instanceof PostgresContext);
  const context =
    postgres instanceof PostgresContext
      ? postgres
      : new PostgresContext(resolvePostgresOptions(postgres, process.env));
  const replica = sharedReplica ?? new PostgresReplica(context, replicaOptions(timing));
  const tenantId = engineSetup.tenantId ?? 'local';
  const escalations = new PostgresEscalationStore(context, {
    tenantId,
    replica,
    maxPending: engineSetup.maxPendingEscalations,
    pollIntervalMs: timing.pollIntervalMs,
    sweepIntervalMs: timing.sweepIntervalMs,
  });
  let closed = false;
  // Released by the engine's close(), last: what this engine set owns (a shared replica or context stays).
  const release = async (): Promise<void> => {
    closed = true;
    try {
      if (sharedReplica === undefined) await replica.close();
    } finally {
      if (ownsContext) await context.close();
    }
  };
  const built = createEngine({
    ...engineSetup,
    audit: { store: new PostgresAuditStore(context, tenantId) },
    stores: () => ({
      escalations,
      grants: new PostgresGrantStore(context, tenantId),
      idempotency: new PostgresIdempotencyStore(context, tenantId, {
        holderId: replica.id,
        holderReady: () => replica.start(),
        staleAfterMs: replica.staleAfterMs,
      }),
      release,
    }),
  });
  const start = async (): Promise<void> => {
    await context.ready();
    await replica.start();
    await escalations.start();
  };
  if (onStartFailed !== undefined) {
    start().catch((error: unknown) => {
      if (!closed) onStartFailed(error);
    });
  }
  return { ...built, context, replica, escalations, start };
}

function replicaOptions(timing: PostgresEngineTiming): PostgresReplicaOptions {
  return {
    heartbeatMs: timing.heartbeatMs,
    staleAfterMs: timing.staleAfterMs,
    description: `${hostname()} pid ${process.pid}`,
  };
}
