import type { Client, ClientConfig, Notification } from 'pg';
import { loadPg } from './pg-loader';
import type { PostgresContext } from './postgres-context';
import { PostgresMessages } from './postgres.messages';

export interface EscalationListenerOptions {
  /** The channel (a name of letters, digits and underscores: it is spliced into LISTEN). */
  channel: string;
  /** The connection's application_name (pg_stat_activity): finds it, never a secret. */
  applicationName: string;
  /** How long after a lost or refused connection to try again, in ms. */
  retryMs: number;
  /** Each notification's payload, as it arrives. */
  onNotify(payload: string | undefined): void;
  /** Once listening, after every (re)connect: what was missed meanwhile is read then. */
  onListening(): void;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * LISTEN on one channel over a connection of its own (a `pg.Client` with the
 * pool's settings, outside the pool: a listening connection cannot be
 * shared). A lost connection (the server restarted, the backend was
 * terminated) is replaced after `retryMs`, for as long as it takes; each new
 * one calls `onListening`, so that its owner reads what it missed. A
 * notification missed meanwhile only delays: the owner also polls.
 */
export class PostgresEscalationListener {
  private client: Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private listening_ = false;
  private connects = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly context: PostgresContext,
    private readonly options: EscalationListenerOptions,
  ) {
    if (!CHANNEL.test(options.channel))
      throw new Error(PostgresMessages.badChannel(options.channel));
  }

  /** True while the connection is up and listening. */
  get listening(): boolean {
    return this.listening_;
  }

  /** How many times a connection started listening (a reconnect counts again). */
  get connections(): number {
    return this.connects;
  }

  /** Connects (once); resolves when listening or when the first attempt failed (retried later). */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.connecting ??= this.connect();
    return this.connecting;
  }

  /** Resolves the next time a connection starts listening (at once when it is). */
  whenListening(): Promise<void> {
    if (this.listening_) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening and ends the connection; no reconnect after this. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    this.listening_ = false;
    if (client !== null) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { Client: PgClient } = loadPg();
    const poolOptions = (this.context.pool as unknown as { options?: ClientConfig }).options ?? {};
    const client = new PgClient({
      ...poolOptions,
      application_name: this.options.applicationName,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: poolOptions.connectionTimeoutMillis ?? 10_000,
    });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      if (this.client === client) {
        this.client = null;
        this.listening_ = false;
      }
      client.end().catch(() => undefined);
      this.scheduleRetry();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message: Notification) => {
      if (message.channel === this.options.channel) this.options.onNotify(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch {
      onLost();
      return;
    }
    if (this.closed || lost) {
      if (!lost) await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.listening_ = true;
    this.connects++;
    for (const wake of this.waiters.splice(0)) wake();
    this.options.onListening();
  }

  private scheduleRetry(): void {
    if (this.closed || this.retry !== null) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connecting = this.connect();
    }, this.options.retryMs);
    this.retry.unref();
  }
}
