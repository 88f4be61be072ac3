/*
 * Finding 10: audit files were created world-readable (0644, directories
 * 0755), yet they hold every call's parameters. Files the store creates are
 * 0600 (the log, its `.head` anchor), directories it creates 0700. A file or
 * directory that already exists keeps its mode: an operator who chose 0640
 * for a log shipper's group keeps that choice (docs/reliability.md).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGatewayServer } from '../../lib/server/factory';
import { generateApiKey } from '../../lib/server/api-keys';
import { AuditLog } from '../../lib/engine/audit/audit-log';
import { TEST_POLICY } from '../e2e/server/server.helpers';
import { bootToolApp } from '../reliability/reliability.fixture';
import { auditInput } from './security.helpers';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('audit files are private to their owner', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'provenance-modes-'));
    // The test's own umask must not be what makes the files private.
    expect(process.umask() & 0o077).not.toBe(0o077);
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('the embedded gateway (module) creates its directories 0700 and its files 0600', async () => {
    const file = join(root, 'a', 'b', 'audit.jsonl');
    const booted = await bootToolApp({
      agentId: 'agent-modes',
      policy: TEST_POLICY,
      audit: { store: 'file', path: file, durable: false },
    });
    try {
      await booted.gateway.execute('email.send', { to: 'x' });
      await booted.gateway.execute('email.send', { to: 'y' });
    } finally {
      await booted.app.close();
    }
    expect(mode(join(root, 'a'))).toBe(0o700);
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}.head`)).toBe(0o600);
  });

  it('the gateway server creates its audit directory 0700 and each tenant file 0600', async () => {
    const dir = join(root, 'server', 'audit');
    const apiKey = generateApiKey('test');
    const app = await createGatewayServer(
      {
        keys: [{ key: apiKey, tenantId: 'tenant-m', policy: TEST_POLICY }],
        audit: { store: 'file', dir, durable: false },
      },
      { platform: 'express', logger: false },
    );
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const answer = await fetch(`http://127.0.0.1:${port}/v1/gateway/execute`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-PROVENANCE-API-KEY': apiKey },
        body: JSON.stringify({
          session_id: 'sess_0123456789abcdef',
          agent_id: 'a',
          action: 'email.send',
          parameters: null,
          decision: 'ALLOW',
        }),
      });
      expect(answer.status).toBe(200);
    } finally {
      await app.close();
    }
    expect(mode(join(root, 'server'))).toBe(0o700);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'tenant-m.audit.jsonl'))).toBe(0o600);
    expect(mode(join(dir, 'tenant-m.audit.jsonl.head'))).toBe(0o600);
  });

  it('an existing file and directory keep the mode the operator gave them', async () => {
    const dir = join(root, 'shipped');
    mkdirSync(dir, { mode: 0o750 });
    chmodSync(dir, 0o750);
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, '');
    chmodSync(file, 0o640);
    const log = await AuditLog.openFile(file, { durable: false });
    await log.append(auditInput(0));
    await log.close();
    expect(mode(dir)).toBe(0o750);
    expect(mode(file)).toBe(0o640);
    // The anchor is the store's own file, replaced whole on the first batch: always 0600.
    expect(mode(`${file}.head`)).toBe(0o600);
  });
});
