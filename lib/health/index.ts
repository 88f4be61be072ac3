/**
 * `nestjs-provenance/health`: the `@nestjs/terminus` health indicator. A
 * sub-path of its own, so that the main entry point never loads terminus
 * (an optional peer dependency).
 */
export {
  DEFAULT_HEALTH_TIMEOUT_MS,
  ProvenanceHealthIndicator,
  type ProvenanceHealthDetails,
  type ProvenanceHealthOptions,
} from './provenance.health-indicator';
