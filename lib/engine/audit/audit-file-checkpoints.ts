import { promises as fs } from 'node:fs';
import { splitLines, parseLine } from './audit-file-lines';
import { AUDIT_FILE_MODE, checkpointPathFor } from './audit-file-paths';

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

/** The checkpoint file opened for appending (0600 when created), a torn last line cut first. */
export async function openCheckpointFile(file: string): Promise<fs.FileHandle> {
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
