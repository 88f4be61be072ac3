/** The injection token of the review module's `{ authorize }` options. */
export const PROVENANCE_REVIEW_MODULE_OPTIONS = 'PROVENANCE_REVIEW_MODULE_OPTIONS';
