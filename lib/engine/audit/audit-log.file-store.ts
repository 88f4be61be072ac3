import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditMessages } from '../engine.messages';
import { isAuditEventShape, type AuditAnchor } from './audit-chain';
import { computeEventHash, serializeEvent, type AuditEvent } from './audit-event';
import { AuditStoreError } from './audit.errors';
import type { AuditStore, AuditStoreContents } from './audit-store';

export const DEFAULT_AUDIT_FILE = path.join('.provenance', 'audit.jsonl');

export interface FileAuditStoreOptions {
  /**
   * fsync (fdatasync) each batch before acknowledging it, so an acknowledged
   * event survives a power loss, not only a process crash. Default true.
   */
  durable?: boolean;
}

/** The head anchor's file, next to the log. */
export function anchorPathFor(file: string): string {
  return `${file}.head`;
}

/**
 * Reads an audit file as it is on disk, without changing it: one record per
 * complete line (`{ malformed }` for a line that is not JSON), the head
 * anchor, and whether a torn last line (no trailing newline) was left out.
 * Throws the fs error when the file itself cannot be read.
 */
export async function readAuditFile(file: string): Promise<AuditStoreContents> {
  const content = await fs.readFile(file);
  const { lines, tornBytes } = splitLines(content);
  const records = lines.map(parseLine);
  return { records, anchor: await readAnchor(file), tornTail: tornBytes > 0 };
}

/**
 * Append-only JSON lines, one event per line in canonical JSON, plus a head
 * anchor `<file>.head` rewritten (atomically, by rename) after each durable
 * batch so that removing events from the end is detected.
 *
 * One process appends to a file at a time: this store takes no lock, and two
 * writers would fork the chain.
 */
export class FileAuditStore implements AuditStore {
  readonly file: string;
  readonly description: string;
  private readonly durable: boolean;
  private handle: fs.FileHandle | null = null;

  constructor(file: string = DEFAULT_AUDIT_FILE, options: FileAuditStoreOptions = {}) {
    this.file = path.resolve(file);
    this.description = file;
    this.durable = options.durable ?? true;
  }

  async open(): Promise<AuditEvent[]> {
    if (this.handle !== null) throw new AuditStoreError(this.description, 'already open');
    let handle: fs.FileHandle;
    let content: Buffer;
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      handle = await fs.open(this.file, 'a');
      content = await fs.readFile(this.file);
    } catch (error) {
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
    try {
      const events = await this.recover(handle, content);
      this.handle = handle;
      return events;
    } catch (error) {
      await handle.close().catch(() => undefined);
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

  async read(): Promise<AuditStoreContents> {
    try {
      return await readAuditFile(this.file);
    } catch (error) {
      if (error instanceof AuditStoreError) throw error;
      throw new AuditStoreError(this.description, AuditMessages.readFailed(describe(error)), {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }

  /**
   * Acknowledgement happens after a whole batch (full lines) is durable, so a
   * torn or unparsable last line was never acknowledged: cut it off and go on
   * from the last good event. Anything wrong before the last line is damage
   * (or tampering), and we refuse to continue a chain we cannot trust.
   */
  private async recover(handle: fs.FileHandle, content: Buffer): Promise<AuditEvent[]> {
    const { lines, tornBytes } = splitLines(content);
    let keepBytes = content.length - tornBytes;
    const records = lines.map(parseLine);
    const last = records.length - 1;
    if (last >= 0 && !isAuditEventShape(records[last])) {
      keepBytes -= Buffer.byteLength(lines[last], 'utf8') + 1;
      records.pop();
    }
    if (keepBytes < content.length) {
      await handle.truncate(keepBytes);
      if (this.durable) await handle.datasync();
    }
    const events: AuditEvent[] = [];
    for (let index = 0; index < records.length; index++) {
      const record = records[index];
      if (!isAuditEventShape(record)) {
        throw new AuditStoreError(
          this.description,
          AuditMessages.damagedLine(index + 1, 'not a well-formed event'),
        );
      }
      if (record.position !== index) {
        throw new AuditStoreError(
          this.description,
          AuditMessages.damagedLine(
            index + 1,
            `position ${record.position} where ${index} belongs`,
          ),
        );
      }
      events.push(record);
    }
    const tail = events[events.length - 1];
    if (tail !== undefined && computeEventHash(tail) !== tail.hash) {
      throw new AuditStoreError(this.description, AuditMessages.brokenTail(tail.position));
    }
    this.checkAnchor(await readAnchor(this.file), events);
    return events;
  }

  private checkAnchor(anchor: AuditAnchor | null, events: readonly AuditEvent[]): void {
    if (anchor === null) return;
    const at = events[anchor.position];
    if (at === undefined) {
      throw new AuditStoreError(
        this.description,
        AuditMessages.headMismatch(
          `the anchor records position ${anchor.position}, the log ends at ${events.length - 1}`,
        ),
      );
    }
    if (at.hash !== anchor.hash) {
      throw new AuditStoreError(
        this.description,
        AuditMessages.headMismatch(`the event at position ${anchor.position} has another hash`),
      );
    }
  }

  private async writeAnchor(anchor: AuditAnchor): Promise<void> {
    const target = anchorPathFor(this.file);
    const temporary = `${target}.tmp`;
    const handle = await fs.open(temporary, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(anchor)}\n`, 'utf8');
      if (this.durable) await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
  }
}

function splitLines(content: Buffer): { lines: string[]; tornBytes: number } {
  const end = content.lastIndexOf(0x0a) + 1;
  const text = content.subarray(0, end).toString('utf8');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  return { lines, tornBytes: content.length - end };
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    return { malformed: describe(error) };
  }
}

/** The anchor, or null when there is none. A damaged anchor reads as an impossible one. */
async function readAnchor(file: string): Promise<AuditAnchor | null> {
  let text: string;
  try {
    text = await fs.readFile(anchorPathFor(file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<AuditAnchor>;
    if (Number.isSafeInteger(value.position) && typeof value.hash === 'string') {
      return { position: value.position as number, hash: value.hash };
    }
  } catch {
    // fall through: an anchor that does not parse was not written by us
  }
  return { position: Number.MAX_SAFE_INTEGER, hash: 'unreadable head anchor' };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
