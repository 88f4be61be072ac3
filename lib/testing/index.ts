/**
 * `nestjs-provenance/testing`: the real engine for an app's own tests, with a
 * programmable reviewer. Loaded only by this sub-path, never by the main entry point.
 */
export { ProvenanceTestingModule } from './provenance-testing.module';
export { TESTING_DEFAULTS, type ProvenanceTestingOptions } from './provenance-testing.options';
export {
  ProvenanceTestReviewer,
  type ProvenanceTestReviewerOptions,
} from './provenance-test.reviewer';
export type { TestDecide, TestDecision } from './testing-policy';
