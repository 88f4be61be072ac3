import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditMessages } from '../engine.messages';
import { isAuditEventShape, type AuditAnchor } from './audit-chain';
import { serializeCheckpoint, type AuditCheckpoint } from './audit-checkpoints';
import { serializeEvent, type AuditEvent } from './audit-event';
import { ANCHOR_RECORD_BYTES, anchorRecord, readAnchor, writeAll } from './audit-file-anchor';
import { openCheckpointFile, readCheckpointFile } from './audit-file-checkpoints';
import { describe, emptyRecords, parseLine, storedRecords } from './audit-file-lines';
import { acquireAuditLock, releaseAuditLock } from './audit-file-lock';
import {
  AUDIT_DIR_MODE,
  AUDIT_FILE_MODE,
  DEFAULT_AUDIT_FILE,
  anchorPathFor,
} from './audit-file-paths';
import { recoverAuditFile } from './audit-file-recovery';
import { streamAuditFile, readAuditFile, type AuditFileStream } from './audit-file-stream';
import { AuditStoreError } from './audit.errors';
import type {
  AuditStore,
  AuditStoreContents,
  AuditStoreHead,
  AuditStoreStream,
} from './audit-store';

// The file store's pieces, importable from here as before.
export {
  AUDIT_DIR_MODE,
  AUDIT_FILE_MODE,
  DEFAULT_AUDIT_FILE,
  anchorPathFor,
  checkpointPathFor,
} from './audit-file-paths';
export { readCheckpointFile } from './audit-file-checkpoints';
export { parseStoredLine } from './audit-file-lines';
export { readAuditFile, streamAuditFile, type AuditFileStream } from './audit-file-stream';

export interface FileAuditStoreOptions {
  /**
   * fsync (fdatasync) each batch before acknowledging it, so an acknowledged
   * event survives a power loss, not only a process crash. Default true.
   */
  durable?: boolean;
}

/**
 * Append-only JSON lines, one event per line in canonical JSON, plus a head
 * anchor `<file>.head` updated after each durable batch so that removing
 * events from the end is detected.
 *
 * The anchor is a lower bound (the log holds at least that position with that
 * hash): it may lag behind the log, it must never be ahead of what is durable
 * in it. The first batch after opening writes a fresh anchor file (temp file,
 * fdatasync, rename: whatever was there before is replaced whole). Later
 * batches, after the log's fdatasync, overwrite that file in place through the
 * handle kept open: one fixed-width record at offset 0, with no fsync of its
 * own; close() fdatasyncs it. So a batch costs one write instead of open,
 * write, fdatasync, close and rename. After a power loss the anchor may be an
 * older one, still a true lower bound. The record (128 bytes) lies inside the
 * first 512-byte sector, whose writes devices make atomic (the assumption
 * PostgreSQL makes for pg_control); if one is torn nonetheless, the anchor no
 * longer parses or no longer matches the log, and readAnchor/recoverAuditFile report it
 * as damage: a false alarm for a human to look at, never a missed truncation.
 *
 * One writer per file: open() takes `<file>.lock` (audit-file-lock.ts) and
 * close() removes it, so a second writer, in this process or another, is
 * refused at open instead of forking the chain; a lock left by a writer that
 * died is taken over. Reading (read(), readAuditFile, verify) takes no lock.
 */
export class FileAuditStore implements AuditStore {
  readonly file: string;
  readonly description: string;
  private readonly durable: boolean;
  private handle: fs.FileHandle | null = null;
  /** The anchor file this store wrote fresh, kept open for in-place updates. */
  private anchorHandle: fs.FileHandle | null = null;
  /** The checkpoint file, opened by the first checkpoint. */
  private checkpointHandle: fs.FileHandle | null = null;

  constructor(file: string = DEFAULT_AUDIT_FILE, options: FileAuditStoreOptions = {}) {
    this.file = path.resolve(file);
    this.description = file;
    this.durable = options.durable ?? true;
  }

  async open(): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    await this.openCollecting(events);
    return events;
  }

  /**
   * open() without the events: recovers the log as open() does, streaming it,
   * and returns only its head (event count and last event), so a log of any
   * length opens in bounded memory. AuditLog uses it when the store has it.
   */
  async openHead(): Promise<AuditStoreHead> {
    return this.openCollecting(null);
  }

  /**
   * The well-formed events stored from index `from` on, in order, streamed
   * from the file (a line that is not an event is skipped). Takes no lock.
   */
  async *readEvents(from = 0): AsyncGenerator<AuditEvent> {
    let stream: AuditFileStream;
    try {
      stream = await streamAuditFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
    let index = 0;
    for await (const line of stream.lines) {
      if (index++ < from) continue;
      const record = parseLine(line);
      if (isAuditEventShape(record)) yield record;
    }
  }

  /** read() as a stream, for verification in bounded memory. */
  async readStream(): Promise<AuditStoreStream> {
    let stream: AuditFileStream;
    try {
      stream = await streamAuditFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const anchor = await readAnchor(this.file).catch(() => null);
        return { anchor, records: emptyRecords(), missing: true };
      }
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
    return { anchor: stream.anchor, records: storedRecords(stream.lines, this.description) };
  }

  private async openCollecting(collect: AuditEvent[] | null): Promise<AuditStoreHead> {
    if (this.handle !== null) throw new AuditStoreError(this.description, 'already open');
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: AUDIT_DIR_MODE });
    } catch (error) {
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
    // One writer per file: a second one is refused here, before it reads a line.
    await acquireAuditLock(this.file, this.description);
    let handle: fs.FileHandle | null = null;
    try {
      let stream: AuditFileStream;
      try {
        handle = await fs.open(this.file, 'a', AUDIT_FILE_MODE);
        stream = await streamAuditFile(this.file);
      } catch (error) {
        throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
          cause: error,
        });
      }
      const head = await recoverAuditFile(handle, stream, collect, this.description, this.durable);
      this.handle = handle;
      return head;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await releaseAuditLock(this.file);
      throw error;
    }
  }

  /** Writes the log's `lines` when it gave one per event, else serializes the events. */
  async append(events: readonly AuditEvent[], lines?: readonly string[]): Promise<void> {
    const handle = this.handle;
    if (handle === null) throw new AuditStoreError(this.description, AuditMessages.storeClosed());
    if (events.length === 0) return;
    const text = lines?.length === events.length ? lines : events.map(serializeEvent);
    const buffer = Buffer.from(text.join(''), 'utf8');
    try {
      let offset = 0;
      while (offset < buffer.length) {
        const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
        offset += bytesWritten;
      }
      if (this.durable) await handle.datasync();
      const last = events[events.length - 1];
      await this.writeAnchor({ position: last.position, hash: last.hash });
    } catch (error) {
      throw new AuditStoreError(this.description, AuditMessages.writeFailed(describe(error)), {
        cause: error,
      });
    }
  }

  /** What the file holds now; a deleted file is `missing` (not valid), not an error. */
  async read(): Promise<AuditStoreContents> {
    try {
      return await readAuditFile(this.file);
    } catch (error) {
      if (error instanceof AuditStoreError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const anchor = await readAnchor(this.file).catch(() => null);
        return { records: [], lines: [], anchor, tornTail: false, missing: true };
      }
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
  }

  /**
   * Appends a checkpoint line to `<file>.checkpoints` (0600), fdatasynced when
   * durable. The first one cuts a torn last line a crash left in that file
   * (a checkpoint is acknowledged to no one, so a torn one is only lost).
   */
  async appendCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    try {
      this.checkpointHandle ??= await openCheckpointFile(this.file);
      await this.checkpointHandle.appendFile(serializeCheckpoint(checkpoint), 'utf8');
      if (this.durable) await this.checkpointHandle.datasync();
    } catch (error) {
      throw new AuditStoreError(this.description, AuditMessages.writeFailed(describe(error)), {
        cause: error,
      });
    }
  }

  async readCheckpoints(): Promise<unknown[]> {
    try {
      return (await readCheckpointFile(this.file)).records;
    } catch (error) {
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    const anchorHandle = this.anchorHandle;
    const checkpointHandle = this.checkpointHandle;
    this.handle = null;
    this.anchorHandle = null;
    this.checkpointHandle = null;
    await checkpointHandle?.close().catch(() => undefined);
    // A clean shutdown leaves the anchor as durable as the log. If that fails,
    // the anchor on disk may only be older: still a true lower bound.
    if (anchorHandle !== null) {
      if (this.durable) await anchorHandle.datasync().catch(() => undefined);
      await anchorHandle.close().catch(() => undefined);
    }
    try {
      if (handle !== null) await handle.close();
    } finally {
      if (handle !== null) await releaseAuditLock(this.file);
    }
  }

  private async writeAnchor(anchor: AuditAnchor): Promise<void> {
    const record = anchorRecord(anchor);
    if (this.anchorHandle !== null && record.length === ANCHOR_RECORD_BYTES) {
      await writeAll(this.anchorHandle, record);
      return;
    }
    // The rename below replaces the file a kept handle points to: let it go.
    const kept = this.anchorHandle;
    this.anchorHandle = null;
    await kept?.close();
    const target = anchorPathFor(this.file);
    const temporary = `${target}.tmp`;
    // A stale temporary file would keep its mode through 'w': start afresh, 0600.
    await fs.rm(temporary, { force: true });
    const handle = await fs.open(temporary, 'w', AUDIT_FILE_MODE);
    try {
      await writeAll(handle, record);
      if (this.durable) await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
    if (record.length === ANCHOR_RECORD_BYTES) this.anchorHandle = await fs.open(target, 'r+');
  }
}
