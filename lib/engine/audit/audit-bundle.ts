import type { KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AuditAnchor } from './audit-chain';
import { isCheckpointShape } from './audit-checkpoints';
import {
  AUDIT_FILE_MODE,
  parseStoredLine,
  readAuditFile,
  readCheckpointFile,
} from './audit-log.file-store';
import { keyIdOf, loadPublicKey, publicKeyPemOf } from './audit-signing';

export const BUNDLE_TYPE = 'provenance.audit.bundle';
export const BUNDLE_VERSION = 1;

/**
 * Everything an auditor needs to verify a log alone, in one JSON file: the
 * log's lines exactly as stored (so the canonical-text check still applies),
 * its head anchor, its signed checkpoints and the public key that signed them.
 * The key in a bundle says which key signed, not that it is the right one:
 * whoever verifies compares `keyId` with the key they trust (or passes it).
 */
export interface AuditBundle {
  type: typeof BUNDLE_TYPE;
  v: typeof BUNDLE_VERSION;
  exportedAt: string;
  /** The audit file's name (its base name, not the path). */
  source: string;
  /** The public key, PEM (SPKI), or null when the log has no checkpoints and none was given. */
  publicKey: string | null;
  keyId: string | null;
  anchor: AuditAnchor | null;
  /** True when the file ended with a torn line, which is not in `events`. */
  tornTail: boolean;
  /** The log's lines, as stored, without their newline. */
  events: string[];
  /** The checkpoint records, as stored (a damaged one as `{ malformed }`). */
  checkpoints: unknown[];
}

/** What verification reads from a file or a bundle. */
export interface AuditSource {
  records: unknown[];
  lines: string[];
  anchor: AuditAnchor | null;
  tornTail: boolean;
  /** Null when there is no checkpoint file (a bundle always has the list, maybe empty). */
  checkpoints: unknown[] | null;
  /** A bundle's own public key. */
  bundleKey: KeyObject | null;
}

/** Builds the bundle of an audit file (the file, its `.head`, its `.checkpoints`). */
export async function createBundle(
  file: string,
  publicKey: KeyObject | null = null,
  now: Date = new Date(),
): Promise<AuditBundle> {
  const contents = await readAuditFile(file);
  const { records: checkpoints } = await readCheckpointFile(file);
  const key = publicKey ?? keyOfCheckpoints(checkpoints);
  return {
    type: BUNDLE_TYPE,
    v: BUNDLE_VERSION,
    exportedAt: now.toISOString(),
    source: path.basename(file),
    publicKey: key === null ? null : publicKeyPemOf(key),
    keyId: key === null ? null : keyIdOf(key),
    anchor: contents.anchor,
    tornTail: contents.tornTail,
    events: contents.lines ?? [],
    checkpoints,
  };
}

/** Writes a bundle, 0600 when created (it holds every call's parameters). */
export async function writeBundle(bundle: AuditBundle, out: string): Promise<void> {
  await fs.writeFile(out, `${JSON.stringify(bundle, null, 1)}\n`, { mode: AUDIT_FILE_MODE });
}

/** True when a file's text is a bundle (its first member names the bundle type). */
export function looksLikeBundle(head: string): boolean {
  return /^\s*\{\s*"type"\s*:\s*"provenance\.audit\.bundle"/.test(head);
}

/** Parses a bundle; throws an Error saying what is wrong with it. */
export function parseBundle(text: string): AuditSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not a bundle: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bundle = value as Partial<AuditBundle> | null;
  if (bundle === null || typeof bundle !== 'object' || bundle.type !== BUNDLE_TYPE) {
    throw new Error(`not a bundle: "type" is not "${BUNDLE_TYPE}"`);
  }
  if (bundle.v !== BUNDLE_VERSION) throw new Error(`unknown bundle version ${String(bundle.v)}`);
  if (!Array.isArray(bundle.events) || !bundle.events.every((line) => typeof line === 'string')) {
    throw new Error('not a bundle: "events" is not a list of lines');
  }
  if (!Array.isArray(bundle.checkpoints))
    throw new Error('not a bundle: "checkpoints" is not a list');
  const anchor = bundle.anchor ?? null;
  if (
    anchor !== null &&
    (typeof anchor !== 'object' ||
      !Number.isSafeInteger(anchor.position) ||
      typeof anchor.hash !== 'string')
  ) {
    throw new Error('not a bundle: "anchor" is not a position and a hash');
  }
  const bundleKey =
    typeof bundle.publicKey === 'string'
      ? loadPublicKey(bundle.publicKey, 'the bundle\'s "publicKey"')
      : null;
  return {
    records: bundle.events.map(parseStoredLine),
    lines: bundle.events,
    anchor,
    tornTail: bundle.tornTail === true,
    checkpoints: bundle.checkpoints,
    bundleKey,
  };
}

/** The key the last well-formed checkpoint names (the log's own claim, for the bundle only). */
function keyOfCheckpoints(checkpoints: readonly unknown[]): KeyObject | null {
  for (let i = checkpoints.length - 1; i >= 0; i--) {
    const record = checkpoints[i];
    if (isCheckpointShape(record)) {
      try {
        return loadPublicKey(record.publicKey, 'a checkpoint\'s "publicKey"');
      } catch {
        return null;
      }
    }
  }
  return null;
}
