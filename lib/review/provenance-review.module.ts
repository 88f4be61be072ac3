import { Module } from '@nestjs/common';
import { ReviewDesk } from './review-desk';
import { checkAuthOptions, normalizeReviewPath } from './review-module.options';
import {
  PROVENANCE_REVIEW_ASYNC_OPTIONS_TYPE,
  PROVENANCE_REVIEW_OPTIONS_TYPE,
  ProvenanceReviewConfigurableModule,
} from './review.module-definition';

/**
 * The escalation review page and its API, mounted in the app under `path`
 * (default `provenance/review`) and open only to the reviewers the app's
 * `authorize(request)` names. The approver of every decision is that
 * principal; the agent whose call it is can never approve it.
 *
 *   ProvenanceReviewModule.forRoot({ path: 'review', authorize: (req) => req.user?.email ?? null })
 *   ProvenanceReviewModule.forRootAsync({ path: 'review', inject: [Auth], useFactory: (auth) => ({ authorize: ... }) })
 *
 * Needs ProvenanceModule in the same app (it uses its ProvenanceReviewer).
 * See docs/escalations.md, "The review module".
 */
@Module({ providers: [ReviewDesk] })
export class ProvenanceReviewModule extends ProvenanceReviewConfigurableModule {
  static override forRoot(options: typeof PROVENANCE_REVIEW_OPTIONS_TYPE) {
    // Both refused here, at the import, rather than at the first request.
    checkAuthOptions(options);
    normalizeReviewPath(options?.path);
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof PROVENANCE_REVIEW_ASYNC_OPTIONS_TYPE) {
    normalizeReviewPath(options?.path);
    return super.forRootAsync(options);
  }
}
