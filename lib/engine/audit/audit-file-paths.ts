import * as path from 'node:path';

export const DEFAULT_AUDIT_FILE = path.join('.provenance', 'audit.jsonl');

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
