import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { LoadResult } from './bench.load';
import { nowNs } from './bench.stats';
import type { WorkerCommand, WorkerConfig, WorkerMessage } from './postgres-replica.worker';

const HOOK = path.join(__dirname, '..', 'scripts', 'swc-register.js');
const WORKER = path.join(__dirname, 'postgres-replica.worker.ts');
const READY_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 15_000;

interface Waiter<T = WorkerMessage> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** How a held call ended: its final decision, and the parent's hrtime when the replica said so. */
export interface CallEnd {
  decision: string;
  at: bigint;
}

/** A held call on a replica: its escalation id once held, and when (parent's clock) it ended. */
export interface HeldCall {
  escalationId: Promise<string>;
  /** The final decision and the parent's hrtime when the replica's message arrived. */
  resolved: Promise<CallEnd>;
}

/**
 * The parent's handle on one replica process (bench/postgres-replica.worker.ts),
 * forked with an IPC channel. Every command is a promise; a replica that dies
 * rejects everything still waiting on it.
 */
export class ReplicaHandle {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly holds = new Map<number, { held: Waiter<string>; resolved: Waiter<CallEnd> }>();
  private dead: Error | null = null;
  private readonly exited: Promise<void>;
  private ready!: Waiter;

  private constructor(
    readonly name: string,
    config: WorkerConfig,
    profileDir: string | null,
  ) {
    const execArgv = ['-r', HOOK];
    if (profileDir !== null) {
      execArgv.push(
        '--cpu-prof',
        '--cpu-prof-dir',
        profileDir,
        '--cpu-prof-name',
        `postgres-replica-${name}.cpuprofile`,
      );
    }
    this.child = fork(WORKER, [JSON.stringify(config)], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: WorkerMessage) => this.receive(message, nowNs()));
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.die(new Error(`replica ${name} exited (${signal ?? code})`));
        resolve();
      });
    });
  }

  /** Forks a replica and resolves once its Nest application context is up. */
  static async start(
    name: string,
    config: WorkerConfig,
    profileDir: string | null,
  ): Promise<ReplicaHandle> {
    const replica = new ReplicaHandle(name, config, profileDir);
    await new Promise<WorkerMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`replica ${name} not ready in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      replica.ready = {
        resolve: (message) => (clearTimeout(timer), resolve(message)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    }).catch(async (error: unknown) => {
      await replica.kill();
      throw error;
    });
    return replica;
  }

  /** A closed loop of gated calls in the replica (closedLoop, runInSession per worker). */
  async load(concurrency: number, ms: number, latencies = false): Promise<LoadResult> {
    const answer = await this.request((id) => ({ op: 'load', id, concurrency, ms, latencies }));
    if (answer.$ !== 'loaded') throw new Error(`replica ${this.name}: unexpected ${answer.$}`);
    return answer.result;
  }

  /** Approves an escalation on this replica; resolves with the replica's own time for it, in ms. */
  async decide(escalationId: string): Promise<number> {
    const answer = await this.request((id) => ({ op: 'decide', id, escalationId }));
    if (answer.$ !== 'decided') throw new Error(`replica ${this.name}: unexpected ${answer.$}`);
    return answer.ms;
  }

  /** Sends one escalating call (its memo makes the parameters unique). */
  hold(memo: string): HeldCall {
    const id = this.nextId++;
    let held!: Waiter<string>;
    let resolved!: Waiter<CallEnd>;
    const escalationId = new Promise<string>((resolve, reject) => {
      held = { resolve, reject };
    });
    const end = new Promise<CallEnd>((resolve, reject) => {
      resolved = { resolve, reject };
    });
    // Either may be left unobserved when the other fails first.
    escalationId.catch(() => undefined);
    end.catch(() => undefined);
    this.holds.set(id, { held, resolved });
    this.send({ op: 'hold', id, memo });
    return { escalationId, resolved: end };
  }

  /** Closes the replica's application (its engine, stores and pool); kills it if that hangs. */
  async close(): Promise<void> {
    if (this.dead === null) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_TIMEOUT_MS);
      await this.request((id) => ({ op: 'close', id })).catch(() => undefined);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private request(make: (id: number) => WorkerCommand): Promise<WorkerMessage> {
    const id = this.nextId++;
    if (this.dead !== null) return Promise.reject(this.dead);
    return new Promise<WorkerMessage>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
      this.send(make(id));
    });
  }

  private send(command: WorkerCommand): void {
    if (this.dead !== null) {
      this.die(this.dead);
      return;
    }
    try {
      this.child.send(command);
    } catch (error) {
      this.die(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private receive(message: WorkerMessage, at: bigint): void {
    switch (message.$) {
      case 'ready':
        this.ready.resolve(message);
        return;
      case 'fatal':
        this.ready?.reject(new Error(`replica ${this.name}: ${message.error}`));
        return;
      case 'held':
        this.holds.get(message.id)?.held.resolve(message.escalationId);
        return;
      case 'resolved': {
        const hold = this.holds.get(message.id);
        this.holds.delete(message.id);
        hold?.resolved.resolve({ decision: message.decision, at });
        return;
      }
      case 'failed': {
        const error = new Error(`replica ${this.name}: ${message.error}`);
        const hold = this.holds.get(message.id);
        if (hold !== undefined) {
          this.holds.delete(message.id);
          hold.held.reject(error);
          hold.resolved.reject(error);
        }
        this.settle(message.id, null, error);
        return;
      }
      default:
        this.settle(message.id, message, null);
    }
  }

  private settle(id: number, message: WorkerMessage | null, error: Error | null): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return;
    this.waiters.delete(id);
    if (error !== null) waiter.reject(error);
    else waiter.resolve(message as WorkerMessage);
  }

  private die(error: Error): void {
    this.dead ??= error;
    this.ready?.reject(error);
    for (const waiter of this.waiters.values()) waiter.reject(error);
    this.waiters.clear();
    for (const hold of this.holds.values()) {
      hold.held.reject(error);
      hold.resolved.reject(error);
    }
    this.holds.clear();
  }
}
