import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { AuditLog } from '../engine/audit/audit-log';
import { ProvenanceConfigError } from '../protocol/provenance.errors';
import { redact } from '../transport/http/http.errors';
import type { GatewayTransport } from '../transport/gateway-transport';
import { ProvenanceGateway } from '../gateway/provenance.gateway';
import { HealthMessages as M } from './health.messages';

/** How long a check waits for the gateway (or the store) by default. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

export interface ProvenanceHealthOptions {
  /** How long to wait for the gateway's answer before reporting down. Default 5000. */
  timeoutMs?: number;
}

/** What an `up` result reports under its key. */
export interface ProvenanceHealthDetails {
  mode: 'embedded' | 'remote';
  gateway: string;
  /** Embedded: whether the audit log accepts appends. Null for a remote gateway (which keeps its own). */
  storeWritable: boolean | null;
  pendingEscalations: number;
}

/**
 * A `@nestjs/terminus` health indicator (`nestjs-provenance/health`).
 * Remote: the gateway answers `GET /health`; `pendingEscalations` counts
 * this process's calls held for a human. Embedded: the audit log opens and
 * has not refused an append (a failed store makes every gated call fail),
 * and the engine lists every escalation it holds (on PostgreSQL, a query).
 * Nothing is written.
 *
 * Provide it beside `TerminusModule` in a module that sees the gateway:
 * `health.check([() => provenance.isHealthy('provenance')])`.
 */
@Injectable()
export class ProvenanceHealthIndicator {
  constructor(
    @Inject(ProvenanceGateway) private readonly gateway: ProvenanceGateway,
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
  ) {}

  async isHealthy<const Key extends string = 'provenance'>(
    key: Key = 'provenance' as Key,
    options: ProvenanceHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
      throw new ProvenanceConfigError('timeoutMs', M.badTimeout(timeoutMs));
    }
    const indicator = this.health.check(key);
    const transport = this.gateway.gatewayTransport;
    const base = {
      mode: transport.kind === 'http' ? 'remote' : 'embedded',
      gateway: transport.target,
    };
    const apiKey = this.gateway.client.options.apiKey ?? '';
    let details: ProvenanceHealthDetails;
    try {
      details = await withTimeout(
        checkTransport(transport, timeoutMs),
        timeoutMs,
        transport.target,
      );
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      return indicator.down({ ...base, message: redact(why, apiKey) });
    }
    return indicator.up({ ...details });
  }
}

async function checkTransport(
  transport: GatewayTransport,
  timeoutMs: number,
): Promise<ProvenanceHealthDetails> {
  if (transport.kind === 'http') {
    await gatewayAnswers(transport.target, timeoutMs);
    // An agent's key may not list the tenant's escalations: this process's held calls.
    return {
      mode: 'remote',
      gateway: transport.target,
      storeWritable: null,
      pendingEscalations: transport.pendingEscalations().length,
    };
  }
  const audit: unknown = transport.audit;
  let storeWritable: boolean | null = null;
  if (audit instanceof AuditLog) {
    try {
      await audit.open();
    } catch (error) {
      throw new Error(M.storeUnopened(messageOf(error)), { cause: error });
    }
    const refusal = audit.refusal();
    if (refusal !== null) throw new Error(M.storeRefuses(messageOf(refusal)), { cause: refusal });
    storeWritable = true;
  }
  // Every escalation the engine holds (on PostgreSQL, a query: the database answers).
  let pending: readonly unknown[];
  try {
    pending = await transport.pending();
  } catch (error) {
    throw new Error(M.pendingUnread(messageOf(error)), { cause: error });
  }
  return {
    mode: 'embedded',
    gateway: transport.target,
    storeWritable,
    pendingEscalations: pending.length,
  };
}

/** `GET <gatewayUrl>/health` (unauthenticated, on the reference gateway and this one) answers 2xx. */
async function gatewayAnswers(target: string, timeoutMs: number): Promise<void> {
  let status: number;
  try {
    const response = await fetch(`${target}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    status = response.status;
    await response.body?.cancel();
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(M.gatewayUnreachable(target, messageOf(cause ?? error)), { cause: error });
  }
  if (status < 200 || status >= 300) throw new Error(M.gatewayUnhealthy(target, status));
}

function withTimeout<T>(work: Promise<T>, ms: number, target: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(M.timedOut(target, ms))), ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
