import type * as OtelApiModule from '@opentelemetry/api';

/** `@opentelemetry/api`, as `require('@opentelemetry/api')` returns it. */
export type OtelApi = typeof OtelApiModule;

/** How the loader requires a module: the real `require` unless a test injects a failing one. */
export type RequireFunction = (id: string) => unknown;

/**
 * Loads `@opentelemetry/api`, an optional peer dependency. Absent (or not
 * the API: no `trace` or `metrics`), this answers null and the library
 * records nothing: telemetry is never a reason for a call to fail.
 */
export function loadOtelApi(requireFn: RequireFunction = require): OtelApi | null {
  let loaded: unknown;
  try {
    loaded = requireFn('@opentelemetry/api');
  } catch {
    return null;
  }
  const api = loaded as Partial<OtelApi> | null;
  if (
    api === null ||
    typeof api !== 'object' ||
    typeof api.trace?.getTracer !== 'function' ||
    typeof api.metrics?.getMeterProvider !== 'function' ||
    typeof api.context?.with !== 'function'
  ) {
    return null;
  }
  return api as OtelApi;
}

let cached: OtelApi | null | undefined;

/** The API, loaded on first use and kept (null, for good, when it is not installed). */
export function otelApi(): OtelApi | null {
  if (cached === undefined) cached = loadOtelApi();
  return cached;
}
