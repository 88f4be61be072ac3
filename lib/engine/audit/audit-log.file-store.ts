import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sha256Hex } from '../../protocol/canonical-json';
import { AuditMessages } from '../engine.messages';
import { isAuditEventShape, type AuditAnchor } from './audit-chain';
import { serializeCheckpoint, type AuditCheckpoint } from './audit-checkpoints';
import { serializeEvent, storedRecordTexts, type AuditEvent } from './audit-event';
import { acquireAuditLock, releaseAuditLock } from './audit-file-lock';
import { AuditStoreError } from './audit.errors';
import { AuditFindingMessages } from './audit.messages';
import type {
  AuditStore,
  AuditStoreContents,
  AuditStoreHead,
  AuditStoreStream,
} from './audit-store';
import type { StoredRecord } from './audit-verify-stream';

export const DEFAULT_AUDIT_FILE = path.join('.provenance', 'audit.jsonl');

export interface FileAuditStoreOptions {
  /**
   * fsync (fdatasync) each batch before acknowledging it, so an acknowledged
   * event survives a power loss, not only a process crash. Default true.
   */
  durable?: boolean;
}

/**
 * Modes of what the store creates: the log holds every call's parameters, so
 * only its owner reads it. A file or directory that exists already keeps the
 * mode it has (an operator's choice, e.g. 0640 for a log shipper's group).
 */
export const AUDIT_FILE_MODE = 0o600;
export const AUDIT_DIR_MODE = 0o700;

/** The head anchor's file, next to the log. */
export function anchorPathFor(file: string): string {
  return `${file}.head`;
}

/** The signed checkpoints' file, next to the log (audit-checkpoints.ts). */
export function checkpointPathFor(file: string): string {
  return `${file}.checkpoints`;
}

/**
 * Reads an audit file as it is on disk, without changing it: one record per
 * complete line (`{ malformed }` for a line that is not JSON) with the line's
 * text, the head anchor, and whether a torn last line (no trailing newline)
 * was left out. Throws the fs error when the file itself cannot be read.
 *
 * The anchor is read first: it is written after the log, so a log read after
 * it holds the anchored event even while appends go on (read the other way
 * round, an append in between made a whole log look truncated).
 */
export async function readAuditFile(file: string): Promise<AuditStoreContents> {
  const anchor = await readAnchor(file);
  const content = await fs.readFile(file);
  const { lines, tornBytes } = splitLines(content);
  const records = lines.map(parseLine);
  return { records, lines, anchor, tornTail: tornBytes > 0 };
}

/** An audit file read as a stream (streamAuditFile). */
export interface AuditFileStream {
  /** The head anchor, read before the log (as readAuditFile reads it). */
  anchor: AuditAnchor | null;
  /** The complete lines, in order, without their newline; read once. */
  lines: AsyncIterable<string>;
  /** Once `lines` is exhausted: whether an unterminated last line (a torn write) was left out. */
  tornTail(): boolean;
  /** Once `lines` is exhausted: the bytes of that unterminated line (0 when none). */
  tornBytes(): number;
}

const STREAM_CHUNK_BYTES = 1 << 20;

/**
 * readAuditFile as a stream: the same anchor, the same lines and the same
 * torn-tail rule, read 1 MiB at a time, so verifying a log of any length holds
 * one chunk and one line, never the file. Throws the fs error when the file
 * cannot be opened; a read error later rejects the iteration. Takes no lock.
 */
export async function streamAuditFile(file: string): Promise<AuditFileStream> {
  const anchor = await readAnchor(file);
  const handle = await fs.open(file, 'r');
  let torn = 0;
  async function* lines(): AsyncGenerator<string> {
    try {
      const chunk = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
      let rest: Buffer = Buffer.alloc(0);
      for (;;) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        const read = chunk.subarray(0, bytesRead);
        const data = rest.length === 0 ? read : Buffer.concat([rest, read]);
        let start = 0;
        for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
          yield data.toString('utf8', start, end);
          start = end + 1;
        }
        // A copy: `chunk` is read into again.
        rest = Buffer.from(data.subarray(start));
      }
      torn = rest.length;
    } finally {
      await handle.close();
    }
  }
  return { anchor, lines: lines(), tornTail: () => torn > 0, tornBytes: () => torn };
}

/**
 * The checkpoint file next to an audit file, as stored: one record per
 * complete line (`{ malformed }` for a line that is not JSON; a torn last line
 * is left out), and whether the file exists at all.
 */
export async function readCheckpointFile(
  file: string,
): Promise<{ records: unknown[]; exists: boolean }> {
  let content: Buffer;
  try {
    content = await fs.readFile(checkpointPathFor(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], exists: false };
    throw error;
  }
  return { records: splitLines(content).lines.map(parseLine), exists: true };
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
 * longer parses or no longer matches the log, and readAnchor/recover report it
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
      const head = await this.recover(handle, stream, collect);
      this.handle = handle;
      return head;
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await releaseAuditLock(this.file);
      throw error;
    }
  }

  async append(events: readonly AuditEvent[]): Promise<void> {
    const handle = this.handle;
    if (handle === null) throw new AuditStoreError(this.description, AuditMessages.storeClosed());
    if (events.length === 0) return;
    const buffer = Buffer.from(events.map(serializeEvent).join(''), 'utf8');
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

  /**
   * Acknowledgement happens after a whole batch (full lines) is durable, so
   * only an unterminated last line is a torn write: it was never acknowledged,
   * and it is cut off once everything else checks out. Anything else wrong (a
   * complete line that is not an event, a last event that does not hash or is
   * not the text we write, an unterminated line the anchor says was
   * acknowledged) is damage or tampering: we refuse to continue a chain we
   * cannot trust, and change nothing, so the evidence stays for verify.
   */
  private async recover(
    handle: fs.FileHandle,
    stream: AuditFileStream,
    collect: AuditEvent[] | null,
  ): Promise<AuditStoreHead> {
    // The writer's lock is held: nothing appends while the log is read.
    const anchor = stream.anchor;
    let count = 0;
    let tail: AuditEvent | null = null;
    let tailLine = '';
    let anchored: string | undefined;
    for await (const line of readLines(stream, this.description)) {
      const index = count;
      const record = parseLine(line);
      if (!isAuditEventShape(record)) {
        throw this.damaged(
          index,
          AuditFindingMessages.damagedLine(index + 1, 'not a well-formed event'),
        );
      }
      if (record.position !== index) {
        throw this.damaged(
          index,
          AuditFindingMessages.damagedLine(
            index + 1,
            `position ${record.position} where ${index} belongs`,
          ),
        );
      }
      collect?.push(record);
      if (anchor !== null && index === anchor.position) anchored = record.hash;
      tail = record;
      tailLine = line;
      count++;
    }
    if (tail !== null) {
      const texts = storedRecordTexts(tail as unknown as Record<string, unknown>);
      if (sha256Hex(texts.body) !== tail.hash) {
        throw this.damaged(tail.position, AuditMessages.brokenTail(tail.position));
      }
      if (texts.line !== tailLine) {
        throw this.damaged(tail.position, AuditFindingMessages.notCanonicalTail(count));
      }
    }
    const tornBytes = stream.tornBytes();
    if (tornBytes > 0 && anchor !== null && anchor.position === count) {
      // The anchor says the unterminated line was acknowledged.
      throw this.damaged(count, AuditFindingMessages.acknowledgedTail(count));
    }
    this.checkAnchor(anchor, anchored, count);
    if (tornBytes > 0) {
      const { size } = await handle.stat();
      await handle.truncate(size - tornBytes);
      if (this.durable) await handle.datasync();
    }
    return { count, last: tail };
  }

  private damaged(position: number, message: string): AuditStoreError {
    return new AuditStoreError(this.description, message, { position });
  }

  private checkAnchor(
    anchor: AuditAnchor | null,
    anchored: string | undefined,
    count: number,
  ): void {
    if (anchor === null) return;
    if (anchored === undefined) {
      throw new AuditStoreError(
        this.description,
        AuditMessages.headMismatch(
          `the anchor records position ${anchor.position}, the log ends at ${count - 1}`,
        ),
      );
    }
    if (anchored !== anchor.hash) {
      throw new AuditStoreError(
        this.description,
        AuditMessages.headMismatch(`the event at position ${anchor.position} has another hash`),
      );
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

/**
 * Every in-place update writes the same number of bytes, so it replaces the
 * whole previous record: `{"position":N,"hash":"<64 hex>"}` is at most 103
 * bytes; JSON allows the padding spaces, so readers parse it as before.
 */
const ANCHOR_RECORD_BYTES = 128;

function anchorRecord(anchor: AuditAnchor): Buffer {
  const text = JSON.stringify(anchor);
  // Longer than a record only for a hash that is not a sha256; written whole, by rename.
  if (Buffer.byteLength(text, 'utf8') >= ANCHOR_RECORD_BYTES) return Buffer.from(`${text}\n`);
  const record = Buffer.alloc(ANCHOR_RECORD_BYTES, 0x20);
  record.write(text, 0, 'utf8');
  record[ANCHOR_RECORD_BYTES - 1] = 0x0a;
  return record;
}

/** Writes the whole buffer at offset 0. */
async function writeAll(handle: fs.FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, offset);
    offset += bytesWritten;
  }
}

/** A stream's lines, a read error as the store's AuditStoreError. */
async function* readLines(stream: AuditFileStream, description: string): AsyncGenerator<string> {
  const lines = stream.lines[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await lines.next();
    } catch (error) {
      throw new AuditStoreError(description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
    if (next.done === true) return;
    try {
      yield next.value;
    } catch (error) {
      await lines.return?.();
      throw error;
    }
  }
}

async function* storedRecords(
  lines: AsyncIterable<string>,
  description: string,
): AsyncGenerator<StoredRecord> {
  for await (const line of readLines(
    { anchor: null, lines, tornTail: () => false, tornBytes: () => 0 },
    description,
  )) {
    yield { record: parseLine(line), line };
  }
}

async function* emptyRecords(): AsyncGenerator<StoredRecord> {
  // a missing file holds no record
}

function splitLines(content: Buffer): { lines: string[]; tornBytes: number } {
  const end = content.lastIndexOf(0x0a) + 1;
  const text = content.subarray(0, end).toString('utf8');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  return { lines, tornBytes: content.length - end };
}

/** A stored line as a record: the event it parses to, or `{ malformed: <why> }`. */
export function parseStoredLine(line: string): unknown {
  return parseLine(line);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    return { malformed: describe(error) };
  }
}

/**
 * The anchor, or null when there is none. A damaged anchor reads as an
 * impossible one. One that does not parse is read once more first: a read
 * that overlapped the in-place rewrite of a running store may see half of it.
 */
async function readAnchor(file: string): Promise<AuditAnchor | null> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = await fs.readFile(anchorPathFor(file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const anchor = parseAnchor(text);
    if (anchor !== null) return anchor;
    if (attempt === 1) return { position: Number.MAX_SAFE_INTEGER, hash: 'unreadable head anchor' };
  }
}

function parseAnchor(text: string): AuditAnchor | null {
  try {
    const value = JSON.parse(text) as Partial<AuditAnchor>;
    if (Number.isSafeInteger(value.position) && typeof value.hash === 'string') {
      return { position: value.position as number, hash: value.hash };
    }
  } catch {
    // an anchor that does not parse was not written by us (or not whole)
  }
  return null;
}

/** The checkpoint file opened for appending (0600 when created), a torn last line cut first. */
async function openCheckpointFile(file: string): Promise<fs.FileHandle> {
  const handle = await fs.open(checkpointPathFor(file), 'a+', AUDIT_FILE_MODE);
  try {
    const content = await handle.readFile();
    const end = content.lastIndexOf(0x0a) + 1;
    if (end < content.length) await handle.truncate(end);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
