/*
 * Issue 15: "when a call fails with GatewayError, log the cause once (kind,
 * status, the store's or transport's message; never the key); today the 503
 * answer says 'could not decide' and nothing says why". Real apps: one on a
 * damaged audit file, one on an append that fails under it, one against a
 * real HTTP gateway that answers 500 (and echoes the key it was sent), one
 * against a closed port. Each says why once, through the configured logger.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../lib/engine/audit/audit-log';
import type { FileAuditStore } from '../../../lib/engine/audit/audit-log.file-store';
import { GatewayError, type PolicyDocument } from '../../../lib';
import {
  bootToolApp,
  closedPortUrl,
  rejectionOf,
  RecordingLogger,
} from '../../reliability/reliability.fixture';

const policy: PolicyDocument = { name: 'said-once', rules: [{ action: '*', on_match: 'ALLOW' }] };
const API_KEY = 'pk_test_said_once_0123456789abcdef';

const input = (i: number) => ({
  tenantId: 'local',
  sessionId: 'sess_1',
  agentId: 'agent-1',
  action: `tool.${i}`,
  parameters: { i },
  decision: 'ALLOW' as const,
  reason: 'ok',
  kind: 'decision' as const,
});

function errorsOf(logger: RecordingLogger): string[] {
  return logger.lines.filter((line) => line.level === 'error').map((line) => line.message);
}

describe('a gated call that fails with GatewayError says why once', () => {
  let dir: string;
  let file: string;
  let consoleError: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenance-failure-said-'));
    file = join(dir, 'audit.jsonl');
    // The AuditLog says a refusing store on console.error too (its own line): keep the output quiet.
    consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    consoleError.mockRestore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('embedded, a damaged audit file: every call fails, one error line names the file and the position', async () => {
    const log = await AuditLog.openFile(file, { durable: false });
    for (let i = 0; i < 3; i++) await log.append(input(i));
    await log.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = '{"damaged":true}';
    writeFileSync(file, lines.join('\n'));

    const logger = new RecordingLogger();
    const booted = await bootToolApp({
      agentId: 'agent-damaged',
      policy,
      logger,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      for (let i = 0; i < 4; i++) {
        expect(await rejectionOf(booted.gateway.execute('tool.run', { i }))).toBeInstanceOf(
          GatewayError,
        );
        expect(await rejectionOf(booted.tool.run({ i }))).toBeInstanceOf(GatewayError);
      }
      expect(booted.tool.runs).toBe(0);
      const errors = errorsOf(logger);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(file);
      expect(errors[0]).toContain('position 1');
    } finally {
      await booted.app.close();
    }
  });

  it('embedded, an append that fails: the first error and every later refusal are one cause, said once', async () => {
    const logger = new RecordingLogger();
    const booted = await bootToolApp({
      agentId: 'agent-failing',
      policy,
      logger,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      await booted.gateway.execute('tool.run', { i: 0 });
      const store = (booted.gateway.gatewayTransport.audit as AuditLog).store as FileAuditStore;
      // The disk goes away under the store: its handle is closed behind its back.
      await (store as unknown as { handle: { close(): Promise<void> } }).handle.close();
      for (let i = 1; i <= 4; i++) {
        const error = await rejectionOf(booted.gateway.execute('tool.run', { i }));
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).kind).toBe('internal');
      }
      const errors = errorsOf(logger);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(file);
    } finally {
      await booted.app.close().catch(() => undefined);
    }
  });

  it('remote, a gateway that answers 500 and echoes the key: kind, status and message once, never the key', async () => {
    let answered = 0;
    const server = http.createServer((request, response) => {
      answered++;
      request.resume();
      response.writeHead(500, { 'content-type': 'application/json' });
      // A broken gateway that repeats what it was sent, the key included.
      response.end(
        JSON.stringify({ detail: `database gone; request had ${request.headers.authorization}` }),
      );
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const booted = await bootToolApp({
      agentId: 'agent-remote',
      gatewayUrl: url,
      apiKey: API_KEY,
    });
    const recorded = booted.logger;
    try {
      for (let i = 0; i < 3; i++) {
        const error = await rejectionOf(booted.gateway.execute('tool.run', { i }));
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).status).toBe(500);
      }
      expect(answered).toBeGreaterThanOrEqual(3);
      const errors = errorsOf(recorded);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('status');
      expect(errors[0]).toContain('HTTP 500');
      expect(errors[0]).toContain(url);
      expect(errors[0]).toContain('database gone');
      expect(recorded.text()).not.toContain(API_KEY);
    } finally {
      await booted.app.close();
      await new Promise<void>((done) => server.close(() => done()));
    }
  });

  it('remote, a closed port: unreachable, said once', async () => {
    const url = await closedPortUrl();
    const booted = await bootToolApp({
      agentId: 'agent-unreachable',
      gatewayUrl: url,
      apiKey: API_KEY,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const error = await rejectionOf(booted.gateway.execute('tool.run', { i }));
        expect((error as GatewayError).kind).toBe('unreachable');
      }
      const errors = errorsOf(booted.logger);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('(unreachable)');
      expect(errors[0]).toContain(url.replace('http://', ''));
      expect(booted.logger.text()).not.toContain(API_KEY);
    } finally {
      await booted.app.close();
    }
  });
});
