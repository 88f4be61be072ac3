import type { ProvenanceClientOptions } from '../gateway/provenance-client.options';

/** `ProvenanceModule.forRoot()` options: the client's, plus how the module binds to HTTP requests. */
export interface ProvenanceModuleOptions extends ProvenanceClientOptions {
  /**
   * Request header that carries a session id in and out. Default
   * `X-Provenance-Session`. `false` turns off per-request sessions.
   */
  sessionHeader?: string | false;
}
