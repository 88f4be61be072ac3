import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import type { AuditViolation } from './audit-chain';
import {
  checkpointSignatureValid,
  isCheckpointShape,
  signCheckpoint,
  type AuditCheckpoint,
  type AuditHead,
  type CheckpointReason,
} from './audit-checkpoints';
import type { AuditEvent } from './audit-event';
import { AuditStoreError } from './audit.errors';
import { AuditFindingMessages, AuditSigningMessages } from './audit.messages';
import {
  SIGNING_KEY_OPTION,
  loadSigningKey,
  type AuditSigningKey,
  type AuditSigningKeyInput,
} from './audit-signing';
import type { AuditStore } from './audit-store';

export const DEFAULT_CHECKPOINT_EVERY_EVENTS = 1000;
export const DEFAULT_CHECKPOINT_EVERY_MS = 60_000;

/** How an AuditLog signs its head (docs/audit.md). */
export interface AuditCheckpointOptions {
  /** The Ed25519 private key: PEM text, the path of a PEM file, or a KeyObject. */
  signingKey: AuditSigningKeyInput;
  /** Recorded in each checkpoint. Default null. */
  tenantId?: string | null;
  /** Sign after this many new events. Default 1000. */
  everyEvents?: number;
  /** Sign this long after the first unsigned event, in ms, if no count came first. Default 60 000. */
  everyMs?: number;
}

/** The opened log's events as `opened` reads them: an array, or only the checkpoints' positions. */
export interface AuditEventLookup {
  readonly length: number;
  at(position: number): AuditEvent | undefined;
}

type CheckpointStore = AuditStore &
  Required<Pick<AuditStore, 'appendCheckpoint' | 'readCheckpoints'>>;

/**
 * Signs an AuditLog's head off the append path: after a batch is durable and
 * its callers are answered, a checkpoint is signed (one Ed25519 signature,
 * tens of microseconds) and written behind it; appends never wait for the
 * checkpoint's write. At open it checks the log against the checkpoints its
 * own key signed, and signs an `open` checkpoint before the first append; at
 * close it signs a `close` one.
 */
export class CheckpointWriter {
  readonly key: AuditSigningKey;
  private readonly store: CheckpointStore;
  private readonly tenantId: string | null;
  private readonly everyEvents: number;
  private readonly everyMs: number;
  private signedPosition = -1;
  private unsigned = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastWritten: AuditCheckpoint | null = null;
  private closed = false;
  /** Why a checkpoint could not be written; the log then refuses further appends. */
  failure: unknown = null;

  constructor(
    store: AuditStore,
    options: AuditCheckpointOptions,
    private readonly head: () => AuditHead | null,
  ) {
    if (
      typeof store.appendCheckpoint !== 'function' ||
      typeof store.readCheckpoints !== 'function'
    ) {
      throw new ProvenanceConfigError(
        SIGNING_KEY_OPTION,
        AuditSigningMessages.storeCannotKeep(store.description),
      );
    }
    this.store = store as CheckpointStore;
    this.key = loadSigningKey(options.signingKey);
    this.tenantId = options.tenantId ?? null;
    this.everyEvents = positive(
      'audit.checkpointEveryEvents',
      options.everyEvents,
      DEFAULT_CHECKPOINT_EVERY_EVENTS,
    );
    this.everyMs = positive(
      'audit.checkpointEveryMs',
      options.everyMs,
      DEFAULT_CHECKPOINT_EVERY_MS,
    );
  }

  /**
   * The log was opened holding `events`. Refuses (AuditStoreError) when a
   * checkpoint of this key does not verify or does not match them, or when
   * events follow this key's last checkpoint and it is a `close` one; then
   * signs an `open` checkpoint and waits until it is written.
   */
  async opened(events: AuditEventLookup): Promise<void> {
    const records = await this.store.readCheckpoints();
    let last: AuditCheckpoint | null = null;
    records.forEach((record, index) => {
      if (!isCheckpointShape(record)) {
        throw new AuditStoreError(
          this.store.description,
          AuditFindingMessages.checkpointLine(index + 1),
        );
      }
      if (record.keyId !== this.key.keyId) return; // another key's (before a rotation)
      const refuse = (detail: string) =>
        new AuditStoreError(
          this.store.description,
          AuditFindingMessages.checkpointRefused(detail),
          {
            position: record.position,
          },
        );
      if (
        record.publicKey !== this.key.publicKeyText ||
        !checkpointSignatureValid(record, this.key.publicKey)
      ) {
        throw refuse(`checkpoint line ${index + 1} does not verify`);
      }
      const event = events.at(record.position);
      if (event === undefined) {
        throw refuse(
          `checkpoint line ${index + 1} signs position ${record.position}, the log ends at ${events.length - 1}`,
        );
      }
      if (event.hash !== record.hash) {
        throw refuse(
          `the event at position ${record.position} has another hash than checkpoint line ${index + 1} signed`,
        );
      }
      last = record;
      this.signedPosition = Math.max(this.signedPosition, record.position);
    });
    const lastOwn = last as AuditCheckpoint | null;
    if (lastOwn !== null && lastOwn.reason === 'close' && events.length > lastOwn.count) {
      throw new AuditStoreError(
        this.store.description,
        AuditFindingMessages.afterClose(lastOwn.position),
        {
          position: lastOwn.count,
        },
      );
    }
    const head = this.head();
    if (head !== null) {
      this.checkpoint(head, 'open');
      await this.writing;
      this.throwIfFailed();
    }
  }

  /** A batch of `added` events is durable and answered. */
  afterBatch(added: number): void {
    if (this.closed) return;
    this.unsigned += added;
    const head = this.head();
    if (head === null) return;
    if (this.unsigned >= this.everyEvents) {
      this.checkpoint(head, 'count');
    } else if (this.timer === null) {
      this.timer = setTimeout(() => this.onTimer(), this.everyMs);
      this.timer.unref();
    }
  }

  /**
   * Signs a `close` checkpoint when the log holds events (also when its head
   * is signed already: a clean close is what lets a verifier tell events
   * appended afterwards), and waits for every checkpoint to be written.
   */
  async close(writeClose: boolean): Promise<void> {
    this.stopTimer();
    const head = this.head();
    if (writeClose && !this.closed && head !== null && this.failure === null) {
      this.checkpoint(head, 'close');
    }
    this.closed = true;
    await this.writing;
  }

  /** The last checkpoint this log wrote, if the store's checkpoints no longer hold it. */
  missingWritten(records: readonly unknown[]): AuditViolation[] {
    const written = this.lastWritten;
    if (written === null) return [];
    const found = records.some(
      (record) => isCheckpointShape(record) && record.signature === written.signature,
    );
    if (found) return [];
    return [
      {
        position: written.position,
        eventId: null,
        problem: 'checkpoint-missing',
        message: AuditFindingMessages.checkpointWritten(written.position),
        expected: written.hash,
        actual: null,
      },
    ];
  }

  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
  }

  private onTimer(): void {
    this.timer = null;
    const head = this.head();
    if (!this.closed && head !== null && head.position > this.signedPosition) {
      this.checkpoint(head, 'interval');
    }
  }

  /** Signs now (the head is taken now), writes behind any earlier checkpoint. */
  private checkpoint(head: AuditHead, reason: CheckpointReason): void {
    this.stopTimer();
    this.unsigned = 0;
    this.signedPosition = head.position;
    const snapshot = { position: head.position, hash: head.hash };
    this.writing = this.writing.then(async () => {
      if (this.failure !== null) return;
      try {
        const checkpoint = signCheckpoint(snapshot, this.key, reason, this.tenantId);
        await this.store.appendCheckpoint(checkpoint);
        this.lastWritten = checkpoint;
      } catch (error) {
        this.failure =
          error instanceof AuditStoreError
            ? error
            : new AuditStoreError(
                this.store.description,
                `cannot write a checkpoint: ${String(error)}`,
                {
                  cause: error,
                },
              );
      }
    });
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function positive(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ProvenanceConfigError(
      option,
      AuditSigningMessages.badInterval(option, String(value)),
    );
  }
  return value;
}
