import { createHash } from 'node:crypto';
import type { ReviewAuthorize } from '../../lib';

/** Who may review in the sample: reviewer token → principal (the approver's id in the audit log). */
export type ReviewerTokens = Record<string, string>;

/**
 * The demo reviewers when SAMPLE_REVIEWER_TOKENS is not set. Anyone who has
 * read this file can approve with them: fine on your laptop, never on a
 * server. `npm start` says so when it uses them.
 */
export const DEMO_REVIEWER_TOKENS: ReviewerTokens = {
  'demo-cfo-token': 'cfo@example.com',
  'demo-alice-token': 'alice',
  'demo-bob-token': 'bob',
};

/**
 * SAMPLE_REVIEWER_TOKENS: `token=principal` pairs separated by commas, e.g.
 * `SAMPLE_REVIEWER_TOKENS='s3cr3t-1=cfo@example.com,s3cr3t-2=alice'`.
 * Undefined when the variable is unset or empty. A malformed pair is refused
 * by its position (the token itself is never printed).
 */
export function reviewerTokensFromEnv(value: string | undefined): ReviewerTokens | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const tokens: ReviewerTokens = {};
  value.split(',').forEach((pair, index) => {
    const at = pair.indexOf('=');
    const token = at < 0 ? '' : pair.slice(0, at).trim();
    const principal = at < 0 ? '' : pair.slice(at + 1).trim();
    if (token === '' || principal === '') {
      throw new Error(
        `SAMPLE_REVIEWER_TOKENS: pair ${index + 1} is not token=principal ` +
          "(e.g. SAMPLE_REVIEWER_TOKENS='s3cr3t-1=cfo@example.com,s3cr3t-2=alice')",
      );
    }
    tokens[token] = principal;
  });
  return tokens;
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The sample's small token guard, as ProvenanceReviewModule's `authorize`:
 * `Authorization: Bearer <token>` → the reviewer that token belongs to, or
 * null. Tokens are looked up by their SHA-256 digest, so the lookup time does
 * not depend on how much of a guessed token is right. A real app would
 * rather read `req.user`, set by its own auth guard (docs/escalations.md).
 */
export function reviewerTokenAuthorizer(tokens: ReviewerTokens): ReviewAuthorize {
  const byDigest = new Map(
    Object.entries(tokens).map(([token, principal]) => [digest(token), principal]),
  );
  return (request) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ ]+(\S+)[ ]*$/i.exec(header) : null;
    return match ? (byDigest.get(digest(match[1])) ?? null) : null;
  };
}
