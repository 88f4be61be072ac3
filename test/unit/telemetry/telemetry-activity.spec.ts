/*
 * `@opentelemetry/api` is often installed with nothing registered (another
 * library brought it): then a call gets no span and no wrapped append, and
 * an SDK registered later is seen at the next call.
 */
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { timedAppend } from '../../../lib/telemetry/audit-append-telemetry';
import { startCallTelemetry } from '../../../lib/telemetry/call-telemetry';

const request = {
  sessionId: 'sess_0123456789abcdef',
  agentId: 'agent-1',
  action: 'tool.run',
  parameters: {},
  decision: 'BLOCK' as const,
  tenantPolicyId: null,
  idempotencyKey: null,
};
const item = () => ({ resolve: () => undefined, reject: () => undefined });

describe('the API installed', () => {
  afterEach(() => {
    trace.disable();
    metrics.disable();
  });

  it('with nothing registered: no telemetry, nothing wrapped', () => {
    expect(startCallTelemetry(request)).toBeNull();
    const append = item();
    expect(timedAppend(append, { action: 'tool.run' })).toBe(append);
  });

  it('a tracer provider registered after the first call is seen at the next', () => {
    expect(startCallTelemetry(request)).toBeNull();
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const telemetry = startCallTelemetry(request);
    expect(telemetry).not.toBeNull();
    telemetry!.abandoned();
    const append = item();
    expect(timedAppend(append, { action: 'tool.run' })).not.toBe(append);
  });

  it('a meter provider alone is enough, and disabling it turns telemetry off again', () => {
    metrics.setGlobalMeterProvider(new MeterProvider());
    expect(startCallTelemetry(request)).not.toBeNull();
    metrics.disable();
    expect(startCallTelemetry(request)).toBeNull();
  });
});
