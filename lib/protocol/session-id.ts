import { randomBytes } from 'node:crypto';

/**
 * A session id: what groups calls in the audit log. The same rule holds for
 * ids a caller passes, ids read from a request header and ids the server
 * accepts, so that an id is never valid in one place and refused in another.
 */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fresh id in the Python SDK's shape: `sess_` and 16 hex characters. */
export function newSessionId(): string {
  return `sess_${randomBytes(8).toString('hex')}`;
}

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}
