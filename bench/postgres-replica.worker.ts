/**
 * One gateway replica of the postgres bench group, in its own Node process
 * (forked by bench/groups/postgres.bench.ts with an IPC channel).
 *
 * It boots a real Nest application context with
 * `ProvenanceModule.forRoot({ agentId, policy: sample, postgres: { connectionString, schema } })`,
 * as a user's app would, so every call below takes the same path as the
 * `gated` group's: `gateway.execute` → decide$ → embedded transport → engine
 * → PostgreSQL stores (audit chain, escalations, grants, idempotency).
 *
 * Commands arrive as IPC messages (`WorkerCommand`), answers leave as
 * `WorkerMessage`s. The config is argv[2] (JSON). stdout is left to the
 * runner; nothing here prints unless it fails.
 */
import type { ExecutionResult } from '../lib';
import { bootProvenance, type BenchApp } from './bench.app';
import { closedLoop, type LoadResult } from './bench.load';
import { ALLOWED_PAYMENT, ESCALATED_PAYMENT, samplePolicy } from './sample.workload';

export interface WorkerConfig {
  name: string;
  connectionString: string;
  schema: string;
}

export type WorkerCommand =
  | { op: 'load'; id: number; concurrency: number; ms: number; latencies: boolean }
  /** Sends one escalating call; answers `held` once it is held, then `resolved` when it ends. */
  | { op: 'hold'; id: number; memo: string }
  /** Approves an escalation (the reviewer's path: the transport's `decide`). */
  | { op: 'decide'; id: number; escalationId: string }
  | { op: 'close'; id: number };

export type WorkerMessage =
  | { $: 'ready'; name: string; pid: number }
  | { $: 'fatal'; error: string }
  | { $: 'loaded'; id: number; result: LoadResult }
  | { $: 'held'; id: number; escalationId: string }
  | { $: 'resolved'; id: number; decision: string }
  | { $: 'decided'; id: number; ms: number }
  | { $: 'closed'; id: number }
  | { $: 'failed'; id: number; error: string };

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

const text = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

function load(app: BenchApp, command: Extract<WorkerCommand, { op: 'load' }>): void {
  const { gateway } = app;
  const { action, parameters } = ALLOWED_PAYMENT;
  closedLoop(command.concurrency, command.ms, () => gateway.execute(action, parameters), {
    latencies: command.latencies,
    wrap: (loop) => gateway.runInSession(undefined, loop),
  }).then(
    (result) => send({ $: 'loaded', id: command.id, result }),
    (error: unknown) => send({ $: 'failed', id: command.id, error: text(error) }),
  );
}

function hold(app: BenchApp, command: Extract<WorkerCommand, { op: 'hold' }>): void {
  const { id } = command;
  const parameters = { ...ESCALATED_PAYMENT.parameters, memo: command.memo };
  let held = false;
  app.gateway.execute$(ESCALATED_PAYMENT.action, parameters).subscribe({
    next: (result: ExecutionResult) => {
      if (!held && result.decision === 'ESCALATE' && result.escalationId) {
        held = true;
        send({ $: 'held', id, escalationId: result.escalationId });
      } else {
        send({ $: 'resolved', id, decision: result.decision });
      }
    },
    error: (error: unknown) => send({ $: 'failed', id, error: text(error) }),
  });
}

function decide(app: BenchApp, command: Extract<WorkerCommand, { op: 'decide' }>): void {
  const started = process.hrtime.bigint();
  app.gateway.gatewayTransport
    .decide(command.escalationId, 'APPROVE', { approverId: 'bench-reviewer', reason: null })
    .then(
      () =>
        send({
          $: 'decided',
          id: command.id,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        }),
      (error: unknown) => send({ $: 'failed', id: command.id, error: text(error) }),
    );
}

async function main(config: WorkerConfig): Promise<void> {
  const app = await bootProvenance({
    agentId: 'bench-agent',
    policy: samplePolicy().document,
    postgres: { connectionString: config.connectionString, schema: config.schema },
    escalationTimeout: 60_000,
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => (closing ??= app.close());
  process.on('message', (command: WorkerCommand) => {
    switch (command.op) {
      case 'load':
        return load(app, command);
      case 'hold':
        return hold(app, command);
      case 'decide':
        return decide(app, command);
      case 'close':
        void close().then(
          () => {
            send({ $: 'closed', id: command.id });
            process.disconnect?.();
          },
          (error: unknown) => send({ $: 'failed', id: command.id, error: text(error) }),
        );
    }
  });
  // The parent went away (or disconnected after close): close as a replica shutting down would.
  process.on('disconnect', () => void close().finally(() => process.exit(0)));
  send({ $: 'ready', name: config.name, pid: process.pid });
}

main(JSON.parse(process.argv[2] ?? '{}') as WorkerConfig).catch((error: unknown) => {
  send({ $: 'fatal', error: text(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
