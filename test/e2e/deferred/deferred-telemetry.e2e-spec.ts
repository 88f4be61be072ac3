/*
 * OpenTelemetry of a deferred call: the SDK's in-memory span exporter and an
 * in-memory metric exporter (flushed by hand). A deferred ESCALATE is not a
 * decision: no `provenance.decisions` point, the escalation counted as
 * `deferred`; the retry the approval allows is counted as an ALLOW.
 */
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ProvenanceGateway, ProvenanceReviewer } from '../../../lib';
import { APPROVER, DEFERRED_POLICY, expectDeferred } from './deferred.fixture';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(spans)],
});
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

/** The sum of the points of the counter `name` whose attributes include `match`. */
async function counted(name: string, match: Attributes): Promise<number> {
  await reader.forceFlush();
  const found = metricExporter
    .getMetrics()
    .at(-1)
    ?.scopeMetrics.flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === name);
  let total = 0;
  for (const point of found?.dataPoints ?? []) {
    const attributes = point.attributes as Attributes;
    if (Object.entries(match).every(([key, value]) => attributes[key] === value)) {
      total += point.value as number;
    }
  }
  return total;
}

describe('OpenTelemetry of executeDeferred', () => {
  let gateway: ProvenanceGateway;

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    gateway = new ProvenanceGateway({
      agentId: 'agent-deferred-otel',
      policy: DEFERRED_POLICY,
      audit: { store: 'memory' },
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
    });
  });

  afterAll(async () => {
    await gateway.close();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    contextManager.disable();
  });

  it('counts no decision for the deferred ESCALATE, the escalation as deferred, and the allowed retry as ALLOW', async () => {
    const payment = { amount: 800 };
    const id = expectDeferred(await gateway.executeDeferred('payments.initiate', payment));
    const tool = { 'gen_ai.tool.name': 'payments.initiate' };
    expect(await counted('provenance.decisions', tool)).toBe(0);
    expect(
      await counted('provenance.escalations', {
        ...tool,
        'provenance.escalation.outcome': 'deferred',
      }),
    ).toBe(1);
    const [decide] = spans.getFinishedSpans().filter((span) => span.name === 'provenance.decide');
    expect(decide.attributes['provenance.escalation.id']).toBe(id);
    expect(decide.attributes['provenance.decision']).toBeUndefined();

    await new ProvenanceReviewer(gateway).approve(id, { approverId: APPROVER });
    expect((await gateway.execute('payments.initiate', payment)).allowed).toBe(true);
    expect(await counted('provenance.decisions', { ...tool, 'provenance.decision': 'ALLOW' })).toBe(
      1,
    );
  });
});
