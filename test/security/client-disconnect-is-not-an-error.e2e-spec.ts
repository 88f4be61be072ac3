import * as net from 'node:net';
import {
  Logger,
  type ArgumentsHost,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { generateApiKey } from '../../lib/server/api-keys';
import { WireExceptionFilter } from '../../lib/server/exception-filter';
import { createGatewayServer } from '../../lib/server/factory';
import type { WireReply } from '../../lib/server/reply';
import { PLATFORMS } from '../e2e/server/server.helpers';

/**
 * A client that hangs up in the middle of its request body is not a failure
 * of the gateway: it used to be logged as `ERROR unexpected failure: aborted`
 * for every dropped connection, which buries the errors that matter (and lets
 * anyone with a socket fill the error log). It is a debug line now; any
 * other failure is still an error.
 */

interface Line {
  level: string;
  message: string;
}

function capturing(lines: Line[]): LoggerService {
  const push = (level: string) => (message: unknown) =>
    lines.push({ level, message: String(message) });
  return {
    log: push('log'),
    error: push('error'),
    warn: push('warn'),
    debug: push('debug'),
    verbose: push('verbose'),
  };
}

/** Sends the headers and the start of a body that claims 500 bytes, then drops the connection. */
function hangUpMidBody(port: number, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /v1/gateway/execute HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          `X-PROVENANCE-API-KEY: ${key}\r\nContent-Type: application/json\r\n` +
          'Content-Length: 500\r\n\r\n{"session_id":',
      );
      setTimeout(() => socket.destroy(), 100);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe.each(PLATFORMS)('a client that hangs up is not an error (%s)', (platform) => {
  let app: INestApplication;
  const lines: Line[] = [];
  const key = generateApiKey('test');

  beforeEach(async () => {
    lines.length = 0;
    app = await createGatewayServer(
      {
        keys: [
          {
            key,
            tenantId: 't',
            policy: { name: 'p', rules: [{ action: '*', on_match: 'ALLOW' }] },
          },
        ],
        audit: { store: 'memory' },
      },
      { platform, logger: capturing(lines) },
    );
    await app.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await app.close();
  });

  it('logs a dropped request body at debug, never as an error', async () => {
    const { port } = app.getHttpServer().address() as { port: number };
    await hangUpMidBody(port, key);
    // The server sees the reset after the socket closed on our side: give it a moment.
    const deadline = Date.now() + 2_000;
    while (!lines.some((line) => /aborted|went away/.test(line.message)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const relevant = lines.filter((line) => /aborted|went away|unexpected/.test(line.message));
    expect(relevant.filter((line) => line.level === 'error' || line.level === 'warn')).toEqual([]);
    expect(relevant).toEqual([
      { level: 'debug', message: expect.stringMatching(/went away.*ECONNRESET/) },
    ]);
    expect(JSON.stringify(lines)).not.toContain(key);
    // The server still answers the next client.
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
  });
});

describe('WireExceptionFilter: only a reset of the request itself is a hang-up', () => {
  const lines: Line[] = [];
  beforeAll(() => Logger.overrideLogger(capturing(lines)));
  afterAll(() => Logger.overrideLogger(new Logger()));
  beforeEach(() => {
    lines.length = 0;
  });

  function host(request: object): ArgumentsHost {
    return {
      switchToHttp: () => ({
        getRequest: () => request,
        getResponse: () => ({}),
        getNext: () => undefined,
      }),
    } as unknown as ArgumentsHost;
  }
  const sent: number[] = [];
  const reply = {
    send: (_res: unknown, status: number) => sent.push(status),
  } as unknown as WireReply;

  function reset(message: string): Error {
    return Object.assign(new Error(message), { code: 'ECONNRESET' });
  }

  it('an ECONNRESET while the request is still open (another connection failed) is an error', () => {
    new WireExceptionFilter(reply).catch(
      reset('socket hang up'),
      host({ destroyed: false, complete: true, headers: {} }),
    );
    expect(lines).toEqual([
      { level: 'error', message: expect.stringContaining('unexpected failure: socket hang up') },
    ]);
    expect(sent.pop()).toBe(500);
  });

  it('any other failure is an error, even when the client has gone', () => {
    new WireExceptionFilter(reply).catch(
      new TypeError('boom'),
      host({ destroyed: true, complete: false, headers: {} }),
    );
    expect(lines).toEqual([
      { level: 'error', message: expect.stringContaining('unexpected failure: boom') },
    ]);
  });

  it('the reset of a request that was destroyed before its body ended is a debug line', () => {
    // As Fastify hands it over: the Node request is `raw`.
    new WireExceptionFilter(reply).catch(
      reset('aborted'),
      host({ raw: { destroyed: true, complete: false, headers: {} } }),
    );
    expect(lines).toEqual([
      { level: 'debug', message: expect.stringMatching(/went away.*ECONNRESET/) },
    ]);
  });
});
