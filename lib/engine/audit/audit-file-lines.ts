import { AuditMessages } from '../engine.messages';
import { AuditStoreError } from './audit.errors';
import type { StoredRecord } from './audit-verify-stream';

/**
 * A stream's lines, a read error as the store's AuditStoreError. A reader
 * that stops early (a damaged line, a `limit` reached) ends the stream too,
 * so its file is closed then, not when it is garbage collected.
 */
export async function* readLines(
  lines: AsyncIterable<string>,
  description: string,
): AsyncGenerator<string> {
  const iterator = lines[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await iterator.next();
      } catch (error) {
        finished = true;
        throw new AuditStoreError(description, AuditMessages.readFailed(describe(error)), {
          cause: error,
        });
      }
      if (next.done === true) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) await iterator.return?.();
  }
}

/** A stream's lines as stored records (each with its line), a read error as the store's. */
export async function* storedRecords(
  lines: AsyncIterable<string>,
  description: string,
): AsyncGenerator<StoredRecord> {
  for await (const line of readLines(lines, description)) {
    yield { record: parseLine(line), line };
  }
}

/** The records of a missing file: none. */
export async function* emptyRecords(): AsyncGenerator<StoredRecord> {
  // a missing file holds no record
}

/** The complete lines of a file's content, and the bytes of an unterminated last line. */
export function splitLines(content: Buffer): { lines: string[]; tornBytes: number } {
  const end = content.lastIndexOf(0x0a) + 1;
  const text = content.subarray(0, end).toString('utf8');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  return { lines, tornBytes: content.length - end };
}

/** A stored line as a record: the event it parses to, or `{ malformed: <why> }`. */
export function parseStoredLine(line: string): unknown {
  return parseLine(line);
}

/** parseStoredLine, for this folder. */
export function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch (error) {
    return { malformed: describe(error) };
  }
}

/** An error's message, or the value as text. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
