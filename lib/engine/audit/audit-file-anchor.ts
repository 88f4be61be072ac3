import { promises as fs } from 'node:fs';
import type { AuditAnchor } from './audit-chain';
import { anchorPathFor } from './audit-file-paths';

/**
 * Every in-place update writes the same number of bytes, so it replaces the
 * whole previous record: `{"position":N,"hash":"<64 hex>"}` is at most 103
 * bytes; JSON allows the padding spaces, so readers parse it as before.
 */
export const ANCHOR_RECORD_BYTES = 128;

/** The anchor's record: padded to ANCHOR_RECORD_BYTES, newline-terminated. */
export function anchorRecord(anchor: AuditAnchor): Buffer {
  const text = JSON.stringify(anchor);
  // Longer than a record only for a hash that is not a sha256; written whole, by rename.
  if (Buffer.byteLength(text, 'utf8') >= ANCHOR_RECORD_BYTES) return Buffer.from(`${text}\n`);
  const record = Buffer.alloc(ANCHOR_RECORD_BYTES, 0x20);
  record.write(text, 0, 'utf8');
  record[ANCHOR_RECORD_BYTES - 1] = 0x0a;
  return record;
}

/** Writes the whole buffer at offset 0. */
export async function writeAll(handle: fs.FileHandle, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset, offset);
    offset += bytesWritten;
  }
}

/**
 * The anchor, or null when there is none. A damaged anchor reads as an
 * impossible one. One that does not parse is read once more first: a read
 * that overlapped the in-place rewrite of a running store may see half of it.
 */
export async function readAnchor(file: string): Promise<AuditAnchor | null> {
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
