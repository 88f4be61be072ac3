import { ServerMessages } from '../protocol/provenance.messages';

/** One item of a FastAPI (pydantic v2) validation error. */
export interface ValidationIssue {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

/**
 * An answer other than 200, with the exact body the reference server gives:
 * `{"detail": {"message": "..."}}` for its own errors, `{"detail": [...]}`
 * for validation (422), `{"detail": "Not Found"}` for routing.
 */
export class WireHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' ? JSON.stringify(body).slice(0, 200) : String(body));
    this.name = 'WireHttpError';
  }

  static message(status: number, message: string): WireHttpError {
    return new WireHttpError(status, { detail: { message } });
  }

  static validation(issues: ValidationIssue[]): WireHttpError {
    return new WireHttpError(422, { detail: issues });
  }

  static notFound(): WireHttpError {
    return new WireHttpError(404, { detail: ServerMessages.notFound() });
  }
}
