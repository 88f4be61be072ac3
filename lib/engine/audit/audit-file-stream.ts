import { promises as fs } from 'node:fs';
import type { AuditAnchor } from './audit-chain';
import { readAnchor } from './audit-file-anchor';
import { parseLine, splitLines } from './audit-file-lines';
import type { AuditStoreContents } from './audit-store';

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
