import type { Counter, Histogram, MeterProvider } from '@opentelemetry/api';
import type { OtelApi } from './otel-api.loader';
import { TelemetryNames as N } from './telemetry.names';

/** The library's instruments on one meter provider. */
export interface TelemetryInstruments {
  readonly provider: MeterProvider;
  readonly decisions: Counter;
  readonly escalations: Counter;
  readonly escalationWait: Histogram;
  readonly gatewayErrors: Counter;
  readonly auditAppend: Histogram;
}

/** Seconds, in buckets that span a fast append (sub-millisecond) to a slow human (an hour). */
const SECONDS = [
  0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600,
];

let current: TelemetryInstruments | null = null;

/**
 * The instruments on the global meter provider, made once per provider: the
 * API hands out no proxy meters, so an SDK registered after the first call
 * (or replaced) gets instruments of its own at the next call.
 */
export function instrumentsOf(api: OtelApi): TelemetryInstruments {
  const provider = api.metrics.getMeterProvider();
  if (current !== null && current.provider === provider) return current;
  const meter = provider.getMeter(N.scope);
  current = {
    provider,
    decisions: meter.createCounter(N.decisionsCounter, {
      description: 'Gated calls decided, by decision and action',
      unit: '{call}',
    }),
    escalations: meter.createCounter(N.escalationsCounter, {
      description: 'Escalations ended, by outcome',
      unit: '{escalation}',
    }),
    escalationWait: meter.createHistogram(N.escalationWaitHistogram, {
      description: 'How long a held call waited for a human',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS },
    }),
    gatewayErrors: meter.createCounter(N.gatewayErrorsCounter, {
      description: 'Gated calls the gateway could not decide, by GatewayError kind',
      unit: '{error}',
    }),
    auditAppend: meter.createHistogram(N.auditAppendHistogram, {
      description: 'From an audit append to its event being durable',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS },
    }),
  };
  return current;
}
