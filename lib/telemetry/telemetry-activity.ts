import type { MeterProvider } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.loader';
import { TelemetryNames as N } from './telemetry.names';

let meters: { provider: MeterProvider; live: boolean } | null = null;

/**
 * The API when something listens (an SDK's tracer or meter provider is
 * registered), else null. The API is often installed with nothing
 * registered (another library brought it): a call then costs a check, not a
 * no-op span and its closures. A provider registered later is seen at the
 * next call: the tracer proxy is asked for its delegate each time, and the
 * meter provider is compared with the one last seen.
 */
export function listeningApi(api: OtelApi | null): OtelApi | null {
  if (api === null) return null;
  const provider = api.metrics.getMeterProvider();
  if (meters === null || meters.provider !== provider) {
    meters = { provider, live: !isNoopMeter(api, provider) };
  }
  if (meters.live) return api;
  const tracers = api.trace.getTracerProvider();
  if (!(tracers instanceof api.ProxyTracerProvider)) return api;
  return tracers.getDelegateTracer(N.scope) === undefined ? null : api;
}

function isNoopMeter(api: OtelApi, provider: MeterProvider): boolean {
  // Before API 1.3 there is no createNoopMeter to compare with: assume it listens.
  if (typeof api.createNoopMeter !== 'function') return false;
  return provider.getMeter(N.scope).constructor === api.createNoopMeter().constructor;
}
