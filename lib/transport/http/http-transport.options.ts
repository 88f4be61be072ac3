import { ProvenanceConfigError } from '../../protocol/provenance.errors';
import type { HttpService } from '@nestjs/axios';
import { Messages } from '../../protocol/provenance.messages';
import type { HttpClientKind } from './http-client';

export interface HttpTransportOptions {
  /** Base URL of the gateway, e.g. `http://localhost:4587`. http or https only. */
  gatewayUrl: string;
  apiKey: string;
  /**
   * Milliseconds one HTTP exchange may take. Against a reference server an
   * escalated call is held up to 60 s, so keep it above that (the SDK uses 90 s).
   */
  timeout: number;
  /** A Nest-injected HttpService; without one the transport makes its own. Unused with `httpClient: 'node'`. */
  httpService?: HttpService;
  /**
   * `axios` (default): requests go through the HttpService's axios (its
   * interceptors, proxy and adapter settings apply; in place of axios' own http
   * adapter, a direct one sends what it can send as axios would, see
   * axios-direct.adapter.ts). `node`: node:http/https
   * directly, for the lowest overhead per call; no HttpService, interceptors or proxy.
   */
  httpClient?: HttpClientKind;
  /** Send `Prefer: respond-async` (docs/protocol.md, "Async escalation"). Default true. */
  asyncEscalation?: boolean;
  /**
   * Milliseconds to wait in total for a human decision after a 202, across all
   * long polls. Default 15 minutes: a server that answers 204 forever must not hold a call forever.
   */
  maxEscalationWait?: number;
}

/**
 * The HTTP transport is public and may be built without the options
 * resolver, so its constructor is an edge: it checks what it cannot work
 * without, with the resolver's messages, and nothing else.
 */
export function checkTransportOptions(
  options: {
    apiKey: unknown;
    timeout: unknown;
    maxEscalationWait?: unknown;
    httpClient?: unknown;
  },
  url: URL,
): void {
  const client = options.httpClient;
  if (client !== undefined && client !== 'axios' && client !== 'node') {
    throw new ProvenanceConfigError(
      'httpClient',
      Messages.badOption('httpClient', "'axios' or 'node'", client),
    );
  }
  if (typeof options.apiKey !== 'string' || options.apiKey === '') {
    throw new ProvenanceConfigError('apiKey', Messages.missingApiKey(displayUrl(url)));
  }
  for (const name of ['timeout', 'maxEscalationWait'] as const) {
    const value = options[name];
    if (value === undefined && name === 'maxEscalationWait') continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ProvenanceConfigError(
        name,
        Messages.badOption(name, 'a positive number of milliseconds', value),
      );
    }
  }
}

/** `gatewayUrl` as a URL: http or https, no query, no fragment; otherwise a config error without credentials. */
export function parseGatewayUrl(value: unknown): URL {
  let url: URL | null = null;
  if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = null;
    }
  }
  if (
    url === null ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    const shown = typeof value === 'string' ? value.replace(/\/\/[^/@]*@/, '//') : value;
    throw new ProvenanceConfigError('gatewayUrl', Messages.badGatewayUrl(String(shown)));
  }
  return url;
}

/** Base URL without a trailing slash; credentials only where the request needs them, never in messages. */
export function displayUrl(url: URL, withCredentials = false): string {
  const copy = new URL(url.href);
  if (!withCredentials) {
    copy.username = '';
    copy.password = '';
  }
  return copy.href.replace(/\/+$/, '');
}
