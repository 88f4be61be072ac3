import type { promises as fs } from 'node:fs';
import { sha256Hex } from '../../protocol/canonical-json';
import { AuditMessages } from '../engine.messages';
import { isAuditEventShape, type AuditAnchor } from './audit-chain';
import { storedRecordTexts, type AuditEvent } from './audit-event';
import { parseLine, readLines } from './audit-file-lines';
import type { AuditFileStream } from './audit-file-stream';
import { AuditStoreError } from './audit.errors';
import { AuditFindingMessages } from './audit.messages';
import type { AuditStoreHead } from './audit-store';

/**
 * Acknowledgement happens after a whole batch (full lines) is durable, so
 * only an unterminated last line is a torn write: it was never acknowledged,
 * and it is cut off once everything else checks out. Anything else wrong (a
 * complete line that is not an event, a last event that does not hash or is
 * not the text we write, an unterminated line the anchor says was
 * acknowledged) is damage or tampering: we refuse to continue a chain we
 * cannot trust, and change nothing, so the evidence stays for verify.
 */
export async function recoverAuditFile(
  handle: fs.FileHandle,
  stream: AuditFileStream,
  collect: AuditEvent[] | null,
  description: string,
  durable: boolean,
): Promise<AuditStoreHead> {
  // The writer's lock is held: nothing appends while the log is read.
  const anchor = stream.anchor;
  let count = 0;
  let tail: AuditEvent | null = null;
  let tailLine = '';
  let anchored: string | undefined;
  for await (const line of readLines(stream.lines, description)) {
    const index = count;
    const record = parseLine(line);
    if (!isAuditEventShape(record)) {
      throw damaged(
        description,
        index,
        AuditFindingMessages.damagedLine(index + 1, whatIsWrong(record)),
      );
    }
    if (record.position !== index) {
      throw damaged(
        description,
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
      throw damaged(description, tail.position, AuditMessages.brokenTail(tail.position));
    }
    if (texts.line !== tailLine) {
      throw damaged(description, tail.position, AuditFindingMessages.notCanonicalTail(count));
    }
  }
  const tornBytes = stream.tornBytes();
  if (tornBytes > 0 && anchor !== null && anchor.position === count) {
    // The anchor says the unterminated line was acknowledged.
    throw damaged(description, count, AuditFindingMessages.acknowledgedTail(count));
  }
  checkAnchor(description, anchor, anchored, count);
  if (tornBytes > 0) {
    const { size } = await handle.stat();
    await handle.truncate(size - tornBytes);
    if (durable) await handle.datasync();
  }
  return { count, last: tail };
}

/** Why a parsed line is not an event: not JSON at all, or JSON of another shape. */
function whatIsWrong(record: unknown): string {
  const malformed = (record as { malformed?: unknown } | null)?.malformed;
  if (typeof malformed === 'string') return `not JSON: ${malformed}`;
  return 'not a well-formed event: a field is missing or of the wrong type';
}

function damaged(description: string, position: number, message: string): AuditStoreError {
  return new AuditStoreError(description, message, { position });
}

function checkAnchor(
  description: string,
  anchor: AuditAnchor | null,
  anchored: string | undefined,
  count: number,
): void {
  if (anchor === null) return;
  if (anchored === undefined) {
    throw new AuditStoreError(
      description,
      AuditMessages.headMismatch(
        `the anchor records position ${anchor.position}, the log ends at ${count - 1}`,
      ),
    );
  }
  if (anchored !== anchor.hash) {
    throw new AuditStoreError(
      description,
      AuditMessages.headMismatch(`the event at position ${anchor.position} has another hash`),
    );
  }
}
