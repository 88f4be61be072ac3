/*
 * Issue 15, OpenTelemetry: a real Nest app with the embedded gateway, the
 * SDK's in-memory span exporter and an in-memory metric exporter behind a
 * periodic reader (flushed by hand). ALLOW, BLOCK, an approved ESCALATE and a
 * gateway error each leave a `provenance.decide` span (with its audit append
 * and escalation wait children) and their metrics; no parameter value
 * appears anywhere in what is exported.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, metrics, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { filter, firstValueFrom } from 'rxjs';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { GatewayError, PolicyBlockedError, type PolicyDocument } from '../../../lib';
import {
  bootToolApp,
  closedPortUrl,
  rejectionOf,
  type ToolApp,
} from '../../reliability/reliability.fixture';
import { startServer } from '../server/server.helpers';

const SECRET_AMOUNT = 987654;
const SECRET_MEMO = 'memo-value-zx81-never-exported';

const policy: PolicyDocument = {
  name: 'otel',
  rules: [
    // No reason of its own: a failed condition's reason names the value it saw (987654).
    {
      action: 'payments.initiate',
      conditions: [{ field: 'amount', operator: '<=', value: 500 }],
      on_match: 'ALLOW',
      on_violation: 'ESCALATE',
    },
    { action: 'tool.run', on_match: 'ALLOW' },
    { action: '*', on_match: 'BLOCK', reason: 'not on the allow list' },
  ],
};

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

/** The metric of that name from the last export (cumulative). */
async function metric(name: string): Promise<MetricData | undefined> {
  await reader.forceFlush();
  const exported = metricExporter.getMetrics().at(-1);
  return exported?.scopeMetrics
    .filter((scope) => scope.scope.name === 'nestjs-provenance')
    .flatMap((scope) => scope.metrics)
    .find((m) => m.descriptor.name === name);
}

/** The sum of the data points whose attributes include `match`. */
async function counted(name: string, match: Attributes): Promise<number> {
  const data = await metric(name);
  if (data === undefined) return 0;
  let total = 0;
  for (const point of data.dataPoints) {
    const attributes = point.attributes as Attributes;
    if (Object.entries(match).every(([key, value]) => attributes[key] === value)) {
      total +=
        data.dataPointType === DataPointType.HISTOGRAM
          ? (point.value as { count: number }).count
          : (point.value as number);
    }
  }
  return total;
}

function named(name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((span) => span.name === name);
}

function childrenOf(parent: ReadableSpan, name: string): ReadableSpan[] {
  return named(name).filter(
    (span) => span.parentSpanContext?.spanId === parent.spanContext().spanId,
  );
}

describe('OpenTelemetry: spans and metrics of gated calls', () => {
  let booted: ToolApp;

  beforeAll(async () => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    booted = await bootToolApp({
      agentId: 'agent-otel',
      policy,
      audit: { store: 'memory' },
      escalationTimeout: 10_000,
    });
  });

  afterAll(async () => {
    await booted?.app.close();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    contextManager.disable();
  });

  beforeEach(() => spans.reset());

  it('ALLOW: a decide span under the current span, an audit append under it, counted by decision and action', async () => {
    const outer = trace.getTracer('test');
    await outer.startActiveSpan('test.request', async (request) => {
      await booted.tool.run({ memo: SECRET_MEMO });
      request.end();
    });
    const [requestSpan] = named('test.request');
    const [decide] = childrenOf(requestSpan, 'provenance.decide');
    expect(decide).toBeDefined();
    expect(decide.attributes).toMatchObject({
      'gen_ai.tool.name': 'tool.run',
      'gen_ai.agent.id': 'agent-otel',
      'provenance.decision': 'ALLOW',
      'provenance.event.id': expect.any(String),
      'provenance.session.id': expect.any(String),
    });
    const [append] = childrenOf(decide, 'provenance.audit.append');
    expect(append.attributes).toMatchObject({
      'gen_ai.tool.name': 'tool.run',
      'provenance.audit.outcome': 'ok',
    });
    expect(
      await counted('provenance.decisions', {
        'provenance.decision': 'ALLOW',
        'gen_ai.tool.name': 'tool.run',
      }),
    ).toBe(1);
    expect(
      await counted('provenance.audit.append.duration', { 'provenance.audit.outcome': 'ok' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('BLOCK: the decision is an answer, not an error', async () => {
    const error = await rejectionOf(booted.gateway.execute('data.delete', { memo: SECRET_MEMO }));
    expect(error).toBeInstanceOf(PolicyBlockedError);
    const [decide] = named('provenance.decide');
    expect(decide.attributes).toMatchObject({
      'gen_ai.tool.name': 'data.delete',
      'provenance.decision': 'BLOCK',
    });
    expect(decide.status.code).not.toBe(2);
    expect(
      await counted('provenance.decisions', {
        'provenance.decision': 'BLOCK',
        'gen_ai.tool.name': 'data.delete',
      }),
    ).toBe(1);
  });

  it('ESCALATE approved: a wait span from escalated to decided, the outcome counted, the wait measured', async () => {
    const pending = firstValueFrom(
      booted.gateway.escalations$.pipe(filter((event) => event.type === 'pending')),
    );
    const call = booted.gateway.execute('payments.initiate', {
      amount: SECRET_AMOUNT,
      memo: SECRET_MEMO,
    });
    const { escalationId } = await pending;
    await booted.gateway.gatewayTransport.decide(escalationId, 'APPROVE', { approverId: 'alice' });
    const result = await call;
    expect(result.allowed).toBe(true);

    const [decide] = named('provenance.decide');
    expect(decide.attributes).toMatchObject({
      'provenance.decision': 'ALLOW',
      'provenance.escalation.id': escalationId,
      'provenance.escalation.wait.duration': expect.any(Number),
    });
    const [wait] = childrenOf(decide, 'provenance.escalation.wait');
    expect(wait.attributes).toMatchObject({
      'provenance.escalation.id': escalationId,
      'provenance.escalation.outcome': 'approved',
    });
    // The pending and the approved events are both appended inside the call.
    expect(childrenOf(decide, 'provenance.audit.append').length).toBeGreaterThanOrEqual(2);
    expect(
      await counted('provenance.escalations', { 'provenance.escalation.outcome': 'approved' }),
    ).toBe(1);
    expect(
      await counted('provenance.escalation.wait.duration', {
        'provenance.escalation.outcome': 'approved',
        'gen_ai.tool.name': 'payments.initiate',
      }),
    ).toBe(1);
  });

  it('a gateway error (a damaged audit file): the span errors with the kind, the error is counted by kind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenance-otel-'));
    const file = join(dir, 'audit.jsonl');
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const log = await AuditLog.openFile(file, { durable: false });
    await log.append({
      tenantId: 'local',
      sessionId: 'sess_1',
      agentId: 'agent-1',
      action: 'tool.0',
      parameters: {},
      decision: 'ALLOW',
      reason: 'ok',
      kind: 'decision',
    });
    await log.close();
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"action"/, '"akshun"'));
    const damaged = await bootToolApp({
      agentId: 'agent-otel-damaged',
      policy,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      const error = await rejectionOf(damaged.tool.run({ memo: SECRET_MEMO }));
      expect(error).toBeInstanceOf(GatewayError);
      const [decide] = named('provenance.decide');
      expect(decide.attributes).toMatchObject({
        'gen_ai.tool.name': 'tool.run',
        'error.type': 'internal',
      });
      expect(decide.attributes['provenance.decision']).toBeUndefined();
      expect(decide.status).toEqual({ code: 2, message: 'internal' });
      expect(
        await counted('provenance.gateway.errors', {
          'error.type': 'internal',
          'gen_ai.tool.name': 'tool.run',
        }),
      ).toBe(1);
      // Never escalated: no escalation ending is counted for it.
      expect(await counted('provenance.escalations', { 'gen_ai.tool.name': 'tool.run' })).toBe(0);
    } finally {
      await damaged.app.close();
      quiet.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('remote: the same span over the HTTP transport, and an unreachable gateway counted by kind', async () => {
    const server = await startServer('express');
    const remote = await bootToolApp({
      agentId: 'agent-otel-remote',
      gatewayUrl: server.url,
      apiKey: server.apiKey,
    });
    const gone = await bootToolApp({
      agentId: 'agent-otel-gone',
      gatewayUrl: await closedPortUrl(),
      apiKey: server.apiKey,
    });
    try {
      const result = await remote.gateway.execute('payments.initiate', { amount: 5 });
      expect(result.allowed).toBe(true);
      const [decide] = named('provenance.decide');
      expect(decide.attributes).toMatchObject({
        'gen_ai.tool.name': 'payments.initiate',
        'gen_ai.agent.id': 'agent-otel-remote',
        'provenance.decision': 'ALLOW',
      });
      spans.reset();
      const before = await counted('provenance.gateway.errors', { 'error.type': 'unreachable' });
      expect(
        await rejectionOf(gone.gateway.execute('payments.initiate', { amount: 5 })),
      ).toBeInstanceOf(GatewayError);
      const [failed] = named('provenance.decide');
      expect(failed.status).toEqual({ code: 2, message: 'unreachable' });
      expect(await counted('provenance.gateway.errors', { 'error.type': 'unreachable' })).toBe(
        before + 1,
      );
    } finally {
      await remote.app.close();
      await gone.app.close();
      await server.close();
    }
  });

  it('no parameter value appears in any span, attribute, status or metric point', async () => {
    // The calls of this file (spans of this test only: run one of each again).
    await booted.tool.run({ memo: SECRET_MEMO });
    await rejectionOf(booted.gateway.execute('data.delete', { amount: SECRET_AMOUNT }));
    const held = booted.gateway.execute('payments.initiate', { amount: SECRET_AMOUNT });
    const [{ escalationId }] = await waitForPending(booted);
    await booted.gateway.gatewayTransport.decide(escalationId, 'REJECT', { approverId: 'bob' });
    expect(await rejectionOf(held)).toBeInstanceOf(PolicyBlockedError);
    // The reason the engine gave names the value: it is what must stay out.
    await reader.forceFlush();
    const exported = JSON.stringify({
      spans: spans.getFinishedSpans().map((span) => ({
        name: span.name,
        attributes: span.attributes,
        status: span.status,
        events: span.events,
      })),
      metrics: metricExporter.getMetrics(),
    });
    expect(spans.getFinishedSpans().length).toBeGreaterThanOrEqual(6);
    expect(exported).toContain('payments.initiate');
    expect(exported).toContain('provenance.decisions');
    expect(exported).not.toContain(String(SECRET_AMOUNT));
    expect(exported).not.toContain(SECRET_MEMO);
    expect(
      await counted('provenance.escalations', { 'provenance.escalation.outcome': 'rejected' }),
    ).toBe(1);
  });
});

async function waitForPending(app: ToolApp): Promise<Array<{ escalationId: string }>> {
  for (;;) {
    const pending = app.gateway.pendingEscalationEvents();
    if (pending.length > 0) return pending;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
