/*
 * `@opentelemetry/api` is an optional peer dependency: without it the
 * library records nothing, allocates nothing per call, and every gated call
 * works as before. Here the API is made unloadable for this file's module
 * registry, and a real Nest app gates calls.
 */
import 'reflect-metadata';

jest.mock('@opentelemetry/api', () => {
  throw new Error("Cannot find module '@opentelemetry/api'");
});

import { loadOtelApi, otelApi } from '../../../lib/telemetry/otel-api.loader';
import { startCallTelemetry } from '../../../lib/telemetry/call-telemetry';
import { timedAppend } from '../../../lib/telemetry/audit-append-telemetry';
import { PolicyBlockedError, type PolicyDocument } from '../../../lib';
import { bootToolApp, rejectionOf } from '../../reliability/reliability.fixture';

const request = {
  sessionId: 'sess_0123456789abcdef',
  agentId: 'agent-1',
  action: 'tool.run',
  parameters: {},
  decision: 'BLOCK' as const,
  tenantPolicyId: null,
  idempotencyKey: null,
};

describe('without @opentelemetry/api', () => {
  it('the loader answers null, once and for all', () => {
    expect(otelApi()).toBeNull();
    expect(
      loadOtelApi(() => {
        throw new Error('not installed');
      }),
    ).toBeNull();
    // Something that is not the API (no trace, no metrics) counts as absent too.
    expect(loadOtelApi(() => ({ trace: {} }))).toBeNull();
  });

  it('a call has no telemetry and an audit append keeps its own promise (nothing wrapped)', () => {
    expect(startCallTelemetry(request)).toBeNull();
    const item = { resolve: () => undefined, reject: () => undefined };
    expect(timedAppend(item, { action: 'tool.run' })).toBe(item);
  });

  it('a real app gates calls as before', async () => {
    const policy: PolicyDocument = {
      name: 'absent',
      rules: [
        { action: 'tool.run', on_match: 'ALLOW' },
        { action: '*', on_match: 'BLOCK', reason: 'no' },
      ],
    };
    const booted = await bootToolApp({
      agentId: 'agent-no-otel',
      policy,
      audit: { store: 'memory' },
    });
    try {
      await booted.tool.run({ a: 1 });
      expect(booted.tool.runs).toBe(1);
      expect(await rejectionOf(booted.gateway.execute('other.thing', {}))).toBeInstanceOf(
        PolicyBlockedError,
      );
      expect(await booted.gateway.audit!.count({})).toBe(2);
    } finally {
      await booted.app.close();
    }
  });
});
