import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { PolicyValidationError } from '../../../lib';
import { generateApiKey } from '../../../lib/server/api-keys';
import { createGatewayServer } from '../../../lib/server/factory';
import { call } from './server.helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EMPTY = path.join(ROOT, 'test/fixtures/policies/empty-rules.yml');

/**
 * A policy with no rules decides nothing, so every call would fall through
 * to the default ALLOW. The server, `npm run gateway` and the module all
 * refuse it at start-up, through the one engine factory, unless
 * `allowEmptyPolicy` says the reference server's behaviour is wanted.
 */
describe('a policy with no rules', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-empty-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('createGatewayServer refuses to start, naming the file, the field and the option', async () => {
    const error = await createGatewayServer(
      {
        keys: [{ key: generateApiKey('test'), tenantId: 't1', policy: EMPTY }],
        audit: { store: 'memory' },
      },
      { logger: false },
    ).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(PolicyValidationError);
    expect((error as Error).message).toContain('empty-rules.yml');
    expect((error as Error).message).toContain('rules');
    expect((error as Error).message).toContain('allowEmptyPolicy');
  });

  it('with allowEmptyPolicy the server starts, warns in its log, and ALLOWs by default', async () => {
    const warnings: string[] = [];
    const logger: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => void warnings.push(String(message)),
    };
    const key = generateApiKey('test');
    const app = await createGatewayServer(
      {
        keys: [{ key, tenantId: 't1', policy: EMPTY }],
        audit: { store: 'memory' },
        allowEmptyPolicy: true,
        logger,
      },
      { logger: false },
    );
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as { port: number };
      const answer = await call(
        { url: `http://127.0.0.1:${port}`, apiKey: key },
        'POST',
        '/v1/gateway/execute',
        {
          session_id: 's1',
          agent_id: 'a1',
          action: 'data.drop_all_tables',
          parameters: {},
          decision: 'BLOCK',
        },
      );
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        decision: 'ALLOW',
        reason: 'No rule matched; default ALLOW',
      });
      expect(
        warnings.some((line) => line.includes("tenant 't1'") && line.includes('EVERY call')),
      ).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('allowEmptyPolicy must be a boolean', async () => {
    await expect(
      createGatewayServer(
        {
          keys: [{ key: generateApiKey('test'), tenantId: 't1', policy: EMPTY }],
          allowEmptyPolicy: 'yes' as never,
        },
        { logger: false },
      ),
    ).rejects.toThrow(/allowEmptyPolicy/);
  });

  it('npm run gateway exits non-zero on it, and PROVENANCE_ALLOW_EMPTY_POLICY=true lets it start', async () => {
    const run = (extra: Record<string, string>) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['-r', path.join(ROOT, 'scripts/swc-register.js'), path.join(ROOT, 'lib/server/main.ts')],
          {
            cwd: dir,
            env: { PATH: process.env.PATH ?? '', PORT: '0', PROVENANCE_POLICY: EMPTY, ...extra },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          // Started: the server prints its curl line; stop it, it has shown what we need.
          if (output.includes('curl')) child.kill('SIGTERM');
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => resolve({ code, output }));
      });
    const refused = await run({});
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('allowEmptyPolicy');
    expect(refused.output).not.toContain('listening on');
    const allowed = await run({ PROVENANCE_ALLOW_EMPTY_POLICY: 'true' });
    expect(allowed.output).toContain('listening on');
    expect(allowed.output).toContain('EVERY call');
  }, 60_000);
});
