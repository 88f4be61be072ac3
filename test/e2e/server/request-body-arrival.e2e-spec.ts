import * as net from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { generateApiKey } from '../../../lib/server/api-keys';
import { createGatewayServer } from '../../../lib/server/factory';
import { PLATFORMS } from './server.helpers';

/**
 * However the body of `POST /v1/gateway/execute` arrives, the server reads
 * exactly it: whole with its headers (taken from the stream's buffer at
 * once), in pieces a while apart, or chunked without a length; and a
 * keep-alive connection answers the requests that follow on it.
 */

const BODY = JSON.stringify({
  action: 'payments.initiate',
  parameters: { amount: 120, currency: 'GBP', note: 'ünïcode €' },
  agent_id: 'agent-1',
  session_id: 'sess_0123456789abcdef',
  decision: 'BLOCK',
});

/** One connection; `send` writes the requests (raw HTTP), resolved with every answer once `count` arrived. */
function exchange(
  port: number,
  count: number,
  send: (socket: net.Socket) => Promise<void>,
): Promise<Array<{ status: number; body: string }>> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      send(socket).catch(reject);
    });
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      received += text;
      const answers = parseAnswers(received);
      if (answers !== null && answers.length === count) {
        socket.destroy();
        resolve(answers);
      }
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error(`no ${count} answers in time: ${received}`)), 5_000);
  });
}

/** The answers so far, each complete (Content-Length or chunked); null while the last one is partial. */
function parseAnswers(text: string): Array<{ status: number; body: string }> | null {
  const answers: Array<{ status: number; body: string }> = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return null;
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    if (length === null) throw new Error(`answer without a length: ${head}`);
    const bytes = Buffer.from(rest.slice(end + 4), 'utf8');
    if (bytes.length < Number(length[1])) return null;
    answers.push({ status, body: bytes.subarray(0, Number(length[1])).toString('utf8') });
    rest = bytes.subarray(Number(length[1])).toString('utf8');
  }
  return answers;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(PLATFORMS)('the execute body, however it arrives (%s)', (platform) => {
  let app: INestApplication;
  let port: number;
  const key = generateApiKey('test');
  const head = (extra: string) =>
    'POST /v1/gateway/execute HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
    `X-PROVENANCE-API-KEY: ${key}\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const bytes = Buffer.from(BODY, 'utf8');

  beforeAll(async () => {
    app = await createGatewayServer(
      {
        keys: [
          {
            key,
            tenantId: 't',
            policy: {
              name: 'p',
              rules: [
                {
                  action: 'payments.initiate',
                  conditions: [{ field: 'note', operator: '==', value: 'ünïcode €' }],
                  on_match: 'ALLOW',
                  on_violation: 'BLOCK',
                  reason: 'the note arrived intact',
                },
              ],
            },
          },
        ],
        audit: { store: 'memory' },
      },
      { platform, logger: false },
    );
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
  });

  const allowed = {
    status: 200,
    body: expect.stringContaining('"decision":"ALLOW","reason":"the note arrived intact"'),
  };

  it('whole with its headers, three times on one keep-alive connection', async () => {
    const request = Buffer.concat([
      Buffer.from(head(`Content-Length: ${bytes.length}\r\n`)),
      bytes,
    ]);
    const answers = await exchange(port, 3, async (socket) => {
      for (let i = 0; i < 3; i++) {
        socket.write(request);
        await pause(30);
      }
    });
    expect(answers).toEqual([allowed, allowed, allowed]);
  });

  it('in pieces a while apart, split inside a multi-byte character', async () => {
    const cut = bytes.indexOf(Buffer.from('€')) + 1;
    const answers = await exchange(port, 1, async (socket) => {
      socket.write(head(`Content-Length: ${bytes.length}\r\n`));
      await pause(40);
      socket.write(bytes.subarray(0, 10));
      await pause(40);
      socket.write(bytes.subarray(10, cut));
      await pause(40);
      socket.write(bytes.subarray(cut));
    });
    expect(answers).toEqual([allowed]);
  });

  it('chunked, without a length', async () => {
    const answers = await exchange(port, 1, async (socket) => {
      socket.write(head('Transfer-Encoding: chunked\r\n'));
      for (const piece of [bytes.subarray(0, 20), bytes.subarray(20)]) {
        socket.write(`${piece.length.toString(16)}\r\n`);
        socket.write(piece);
        socket.write('\r\n');
        await pause(20);
      }
      socket.write('0\r\n\r\n');
    });
    expect(answers).toEqual([allowed]);
  });

  it('a body shorter than its length is waited for, never read as the whole', async () => {
    const answers = await exchange(port, 1, async (socket) => {
      socket.write(head(`Content-Length: ${bytes.length}\r\n`));
      socket.write(bytes.subarray(0, bytes.length - 1));
      await pause(100);
      socket.write(bytes.subarray(bytes.length - 1));
    });
    expect(answers).toEqual([allowed]);
  });
});
