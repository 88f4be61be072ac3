import { createHash } from 'node:crypto';
import { REVIEW_PAGE_BODY } from './review-page.markup';
import { REVIEW_PAGE_SCRIPT } from './review-page.script';
import { REVIEW_PAGE_STYLE } from './review-page.styles';

/*
 * The review page ProvenanceReviewModule serves at its path: one HTML
 * document, its style and script inline, assembled here from TypeScript
 * strings (review-page.styles.ts, review-page.markup.ts,
 * review-page.script.ts) so that it ships in dist/lib with no copy step.
 *
 * How it signs in (docs/escalations.md, "The review page"): every request
 * goes to the same origin with the browser's cookies, and, when the page
 * holds a reviewer token, with `Authorization: Bearer <token>`. A token comes
 * from `#token=...` in the address (taken out of the address bar at once and
 * kept in sessionStorage, for this tab only) or from the sign-in field shown
 * after a 401. The live stream is read with fetch rather than EventSource so
 * that the token goes in a header, never in a URL.
 */

/** The page, as served. */
export const REVIEW_PAGE_HTML = [
  '<!doctype html>',
  '<html lang="en">',
  '  <head>',
  '    <meta charset="utf-8" />',
  '    <meta name="viewport" content="width=device-width, initial-scale=1" />',
  '    <meta name="referrer" content="no-referrer" />',
  '    <title>Provenance · escalation review</title>',
  `    <style>${REVIEW_PAGE_STYLE}    </style>`,
  '  </head>',
  `  <body>${REVIEW_PAGE_BODY}    <script>${REVIEW_PAGE_SCRIPT}    </script>`,
  '  </body>',
  '</html>',
  '',
].join('\n');

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page talks to its own origin only, runs only its own script and style
 * (by hash, so an injected one does not run), and may not be framed.
 */
export const REVIEW_PAGE_CSP = [
  "default-src 'self'",
  `script-src ${sha256(`${REVIEW_PAGE_SCRIPT}    `)}`,
  `style-src ${sha256(`${REVIEW_PAGE_STYLE}    `)}`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
