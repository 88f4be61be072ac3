import { otelApi, type OtelApi } from './otel-api.loader';
import { listeningApi } from './telemetry-activity';
import { instrumentsOf } from './telemetry-instruments';
import { TelemetryNames as N } from './telemetry.names';
import { tracerOfApi } from './telemetry-tracer';

/** An append's promise, as the audit log queues it. */
export interface SettlingAppend {
  resolve(value: never): void;
  reject(error: unknown): void;
}

/** What the append span names: the event's action and kind (never its parameters). */
export interface AppendedEvent {
  readonly action: string;
  readonly kind?: string;
}

/**
 * Times one audit append, from the call to its event being durable (or
 * refused): a `provenance.audit.append` span, a child of the current span
 * (the gated call's), and the `provenance.audit.append.duration` histogram.
 * Without `@opentelemetry/api`, or with nothing registered, the item is returned as it is.
 */
export function timedAppend<T extends SettlingAppend>(
  item: T,
  event: AppendedEvent,
  loaded: OtelApi | null = otelApi(),
): T {
  const api = listeningApi(loaded);
  if (api === null) return item;
  const started = performance.now();
  const kind = event.kind ?? 'decision';
  const span = tracerOfApi(api).startSpan(N.auditAppendSpan, {
    attributes: { [N.toolName]: event.action, [N.auditKind]: kind },
  });
  const done = (outcome: 'ok' | 'error'): void => {
    instrumentsOf(api).auditAppend.record((performance.now() - started) / 1000, {
      [N.auditKind]: kind,
      [N.auditOutcome]: outcome,
    });
    span.setAttribute(N.auditOutcome, outcome);
    if (outcome === 'error') span.setStatus({ code: 2, message: 'audit store refused' });
    span.end();
  };
  // Answered through the item itself: its methods may read their object.
  return {
    ...item,
    resolve: (value: never) => {
      done('ok');
      item.resolve(value);
    },
    reject: (error: unknown) => {
      done('error');
      item.reject(error);
    },
  } as T;
}
