import { InvalidParametersError, ProvenanceError } from '../../protocol/provenance.errors';

/**
 * @deprecated since 0.2: a value that cannot be written as canonical JSON is
 * refused with `InvalidParametersError`, the one error of the one JSON walker;
 * `CanonicalJsonError` is that same class (so `instanceof` either name holds,
 * and `new CanonicalJsonError(path, message)` still works). Removed in 0.3.
 */
export const CanonicalJsonError = InvalidParametersError;
/** @deprecated since 0.2: use `InvalidParametersError`. */
export type CanonicalJsonError = InvalidParametersError;

/**
 * The audit store cannot be read or written, or what it holds is not a chain
 * we may continue (a damaged middle line, a file shorter than its head anchor).
 * Appends fail closed with this error: no decision is returned unrecorded.
 */
export class AuditStoreError extends ProvenanceError {
  readonly file: string | null;
  /** The position in the log the refusal is about (a damaged line's), when there is one. */
  readonly position: number | null;

  constructor(
    file: string | null,
    message: string,
    options?: { cause?: unknown; position?: number | null },
  ) {
    super(
      file === null ? message : `${file}: ${message}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.file = file;
    this.position = options?.position ?? null;
  }
}
