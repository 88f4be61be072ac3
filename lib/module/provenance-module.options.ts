import type { ProvenanceReviewerOptions } from '../escalation/provenance.reviewer';
import { CLIENT_OPTION_SPECS } from '../gateway/options/client-option-specs';
import type { ProvenanceClientOptions } from '../gateway/provenance-client.options';

/** The options only the module reads. They never reach `ProvenanceClient`. */
export interface ProvenanceModuleOwnOptions {
  /**
   * Request header that carries a session id in and out. Default
   * `X-Provenance-Session`. `false` turns off per-request sessions.
   */
  sessionHeader?: string | false;
  /** Options of the injected `ProvenanceReviewer` (poll interval against a remote gateway, tenant filter). */
  reviewer?: ProvenanceReviewerOptions;
}

/**
 * `ProvenanceModule.forRoot()` options: the client's, passed through to
 * `ProvenanceClient` (see ProvenanceClientOptions), and the module's own.
 * `isGlobal` is taken by forRoot() / forRootAsync() beside these (Nest's
 * ConfigurableModuleBuilder extras).
 */
export interface ProvenanceModuleOptions
  extends
    Omit<ProvenanceClientOptions, keyof ProvenanceModuleOwnOptions>,
    ProvenanceModuleOwnOptions {}

/**
 * Keys the module keeps from the client: its own, and `isGlobal` (forRoot()
 * strips it, but a forRootAsync() factory may still return it).
 */
const MODULE_ONLY: Record<keyof ProvenanceModuleOwnOptions | 'isGlobal', true> = {
  sessionHeader: true,
  reviewer: true,
  isGlobal: true,
};
export const MODULE_ONLY_OPTIONS: ReadonlySet<string> = new Set(Object.keys(MODULE_ONLY));

/**
 * What the module hands to `new ProvenanceClient()`: every key but the
 * module's, so the client still refuses an unknown one, naming it. Client
 * options are also read by name, so an options object whose values are
 * getters (a config class) passes them on. A non-object is passed on as is,
 * for the client to refuse.
 */
export function clientOptionsOf(
  options: ProvenanceModuleOptions | undefined,
): ProvenanceClientOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') return options;
  const source = options as Record<string, unknown>;
  const client: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (!MODULE_ONLY_OPTIONS.has(key)) client[key] = source[key];
  }
  for (const key of Object.keys(CLIENT_OPTION_SPECS)) {
    if (!MODULE_ONLY_OPTIONS.has(key) && !(key in client) && source[key] !== undefined) {
      client[key] = source[key];
    }
  }
  return client;
}
