import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { ReviewMessages } from './review.messages';

/**
 * The request as `authorize` sees it: Express's `req` or Fastify's request,
 * whichever the app runs on. Both have `headers` (lower-case names); what an
 * app's own guard or middleware put on it (`req.user`, `req.session`) is there too.
 */
export interface ReviewRequest {
  headers: Record<string, string | string[] | undefined>;
  [key: string]: any;
}

/**
 * Who is deciding: the reviewer's id, recorded as the approver in the audit
 * log (`actorHumanId`). A non-empty string, e.g. an e-mail address or a user id.
 */
export type ReviewPrincipal = string;

/**
 * Turns a request into the reviewer making it, or `null`/`undefined` when it
 * carries no (valid) credentials. Runs for every route of the review module
 * but the page itself. A thrown error counts as "no principal" (401).
 */
export type ReviewAuthorize = (
  request: ReviewRequest,
) => ReviewPrincipal | null | undefined | Promise<ReviewPrincipal | null | undefined>;

/** What `ProvenanceReviewModule.forRoot()` takes, and what a `forRootAsync()` factory returns. */
export interface ProvenanceReviewAuthOptions {
  /** Required: there is no default that lets a request in. */
  authorize: ReviewAuthorize;
}

/**
 * `ProvenanceReviewModule.forRoot({ path, authorize })`. With `forRootAsync`,
 * `path` is given beside `useFactory` (routes are fixed before any factory
 * runs) and the factory returns `{ authorize }`.
 */
export interface ProvenanceReviewModuleOptions extends ProvenanceReviewAuthOptions {
  /**
   * Where the page and its API are mounted, relative to the app (and its
   * global prefix, if any). Default `provenance/review`; `''` mounts at the root.
   */
  path?: string;
}

export const DEFAULT_REVIEW_PATH = 'provenance/review';

// Path segments of unreserved and sub-delimiter characters: no query, fragment,
// route parameter (:id), wildcard, dot segment or empty segment.
const SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;

/** `'/ops/approvals/'` → `'ops/approvals'`; throws a ProvenanceConfigError naming `path` for anything else. */
export function normalizeReviewPath(path: unknown): string {
  if (path === undefined || path === null) return DEFAULT_REVIEW_PATH;
  if (typeof path !== 'string') {
    throw new ProvenanceConfigError('path', ReviewMessages.badPath(path));
  }
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  const segments = trimmed.split('/');
  if (segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new ProvenanceConfigError('path', ReviewMessages.badPath(path));
  }
  return trimmed;
}

/** The options a factory or forRoot() gave, checked: `authorize` must be a function. */
export function checkAuthOptions(options: unknown): ProvenanceReviewAuthOptions {
  const authorize = (options as Partial<ProvenanceReviewAuthOptions> | null | undefined)?.authorize;
  if (typeof authorize !== 'function') {
    throw new ProvenanceConfigError('authorize', ReviewMessages.badAuthorize(authorize));
  }
  return { authorize };
}
