import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.loader';
import { TelemetryNames as N } from './telemetry.names';

let tracerOf: { provider: TracerProvider; tracer: Tracer } | null = null;

/**
 * The library's tracer, made once per global tracer provider (the API's
 * proxy, replaced by `trace.disable()`): no tracer is made per call.
 */
export function tracerOfApi(api: OtelApi): Tracer {
  const provider = api.trace.getTracerProvider();
  if (tracerOf === null || tracerOf.provider !== provider) {
    tracerOf = { provider, tracer: provider.getTracer(N.scope) };
  }
  return tracerOf.tracer;
}
