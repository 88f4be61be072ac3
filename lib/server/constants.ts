/** The request property the API-key guard puts the key's scope on (a symbol: no clash with the host app). */
export const API_KEY_SCOPE = Symbol.for('nestjs-provenance.server.api-key-scope');

/** The header every /v1 request carries (lower case, as Node gives headers). */
export const API_KEY_HEADER = 'x-provenance-api-key';
