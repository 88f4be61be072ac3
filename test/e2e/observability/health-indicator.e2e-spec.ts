/*
 * Issue 15: "a health indicator for @nestjs/terminus (gateway reachable /
 * store writable / pending escalations)". Real apps with TerminusModule and a
 * health controller, asked over HTTP: embedded on a memory store (with a call
 * held for a human), embedded on a damaged audit file, remote against a real
 * gateway server, remote against a closed port.
 */
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Inject, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import { ProvenanceHealthIndicator } from '../../../lib/health';
import {
  ProvenanceConfigError,
  ProvenanceGateway,
  ProvenanceModule,
  type PolicyDocument,
  type ProvenanceModuleOptions,
} from '../../../lib';
import { closedPortUrl } from '../../reliability/reliability.fixture';
import { startServer, type TestServer } from '../server/server.helpers';

const policy: PolicyDocument = {
  name: 'health',
  rules: [
    { action: 'refunds.issue', on_match: 'ESCALATE', reason: 'a human signs refunds' },
    { action: '*', on_match: 'ALLOW' },
  ],
};

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(ProvenanceHealthIndicator) private readonly provenance: ProvenanceHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.provenance.isHealthy('provenance')]);
  }
}

async function boot(
  options: ProvenanceModuleOptions,
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [TerminusModule.forRoot({ logger: false }), ProvenanceModule.forRoot(options)],
    controllers: [HealthController],
    providers: [ProvenanceHealthIndicator],
  })
  class HealthAppModule {}
  const app = await NestFactory.create(HealthAppModule, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

async function health(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: await response.json() };
}

const silent = { log() {}, warn() {}, error() {}, debug() {}, verbose() {} };

describe('ProvenanceHealthIndicator over TerminusModule', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-health-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('embedded, healthy: up, the store writable, the held escalation counted', async () => {
    const { app, url } = await boot({
      agentId: 'agent-health',
      policy,
      audit: { store: 'file', path: join(dir, 'audit.jsonl'), durable: false },
      escalationTimeout: 10_000,
      logger: silent,
    });
    try {
      const before = await health(url);
      expect(before.status).toBe(200);
      expect(before.body.status).toBe('ok');
      expect(before.body.info.provenance).toEqual({
        status: 'up',
        mode: 'embedded',
        gateway: 'embedded gateway',
        storeWritable: true,
        pendingEscalations: 0,
      });
      const gateway = app.get(ProvenanceGateway);
      const held = gateway.execute('refunds.issue', { amount: 10 }).catch((e: unknown) => e);
      while (gateway.pendingEscalationEvents().length === 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      const during = await health(url);
      expect(during.body.info.provenance.pendingEscalations).toBe(1);
      await app.close();
      await held;
    } finally {
      await app.close();
    }
  });

  it('embedded, a damaged audit file: 503, down, saying why', async () => {
    const file = join(dir, 'audit.jsonl');
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 2; i++) {
      await log.append({
        tenantId: 'local',
        sessionId: 'sess_1',
        agentId: 'agent-1',
        action: `tool.${i}`,
        parameters: { i },
        decision: 'ALLOW',
        reason: 'ok',
        kind: 'decision',
      });
    }
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[0] = '{"damaged":true}';
    writeFileSync(file, lines.join('\n'));
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { app, url } = await boot({
      agentId: 'agent-health-damaged',
      policy,
      audit: { store: 'file', path: file, durable: false },
      logger: silent,
    });
    try {
      const answer = await health(url);
      expect(answer.status).toBe(503);
      expect(answer.body.status).toBe('error');
      expect(answer.body.error.provenance.status).toBe('down');
      expect(answer.body.error.provenance.mode).toBe('embedded');
      expect(answer.body.error.provenance.message).toContain('cannot be opened');
      expect(answer.body.error.provenance.message).toContain('position 0');
    } finally {
      await app.close();
      quiet.mockRestore();
    }
  });

  it('embedded, a store that failed an append: 503, down, the log refuses appends', async () => {
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { app, url } = await boot({
      agentId: 'agent-health-failing',
      policy,
      audit: { store: 'file', path: join(dir, 'audit.jsonl'), durable: false },
      logger: silent,
    });
    try {
      const gateway = app.get(ProvenanceGateway);
      await gateway.execute('tool.run', { i: 0 });
      expect((await health(url)).status).toBe(200);
      const store = (gateway.gatewayTransport.audit as AuditLog).store;
      // The disk goes away under the store: its handle is closed behind its back.
      await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
      await gateway.execute('tool.run', { i: 1 }).catch(() => undefined);
      const answer = await health(url);
      expect(answer.status).toBe(503);
      expect(answer.body.error.provenance.message).toContain('refuses appends');
    } finally {
      await app.close().catch(() => undefined);
      quiet.mockRestore();
    }
  });

  describe('remote', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer('express');
    });
    afterAll(() => server.close());

    it('a gateway that answers: up, with this process held calls (none)', async () => {
      const { app, url } = await boot({
        agentId: 'agent-health-remote',
        gatewayUrl: server.url,
        apiKey: server.apiKey,
        logger: silent,
      });
      try {
        const answer = await health(url);
        expect(answer.status).toBe(200);
        expect(answer.body.info.provenance).toEqual({
          status: 'up',
          mode: 'remote',
          gateway: server.url,
          storeWritable: null,
          pendingEscalations: 0,
        });
      } finally {
        await app.close();
      }
    });

    it('a closed port: 503, down, naming the gateway, never the key', async () => {
      const gatewayUrl = await closedPortUrl();
      const { app, url } = await boot({
        agentId: 'agent-health-gone',
        gatewayUrl,
        apiKey: server.apiKey,
        logger: silent,
      });
      try {
        const answer = await health(url);
        expect(answer.status).toBe(503);
        expect(answer.body.error.provenance).toMatchObject({ status: 'down', mode: 'remote' });
        expect(answer.body.error.provenance.message).toContain(gatewayUrl);
        expect(JSON.stringify(answer.body)).not.toContain(server.apiKey);
      } finally {
        await app.close();
      }
    });
  });

  it('a bad timeoutMs is a config error naming it', async () => {
    const { app } = await boot({
      agentId: 'agent-health-opt',
      policy,
      audit: { store: 'memory' },
      logger: silent,
    });
    try {
      const indicator = app.get(ProvenanceHealthIndicator);
      await expect(indicator.isHealthy('p', { timeoutMs: 0 })).rejects.toThrow(
        ProvenanceConfigError,
      );
      await expect(indicator.isHealthy('p', { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    } finally {
      await app.close();
    }
  });
});
