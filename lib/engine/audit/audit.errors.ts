import { ProvenanceError } from '../../protocol/provenance.errors';

/**
 * A value cannot be written as canonical JSON. `path` names the offending
 * value the way a reader finds it (`$.items[3].amount`), because the value is
 * usually a tool call's parameters and the caller needs to know which one.
 */
export class CanonicalJsonError extends ProvenanceError {
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * The audit store cannot be read or written, or what it holds is not a chain
 * we may continue (a damaged middle line, a file shorter than its head anchor).
 * Appends fail closed with this error: no decision is returned unrecorded.
 */
export class AuditStoreError extends ProvenanceError {
  readonly file: string | null;

  constructor(file: string | null, message: string, options?: { cause?: unknown }) {
    super(file === null ? message : `${file}: ${message}`, options);
    this.file = file;
  }
}
