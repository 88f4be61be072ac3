/*
 * Finding 6 (audit part): `GET /v1/audit/{tenant}?limit=10000` blocked the
 * event loop for seconds and eight at once took the process to gigabytes.
 * `limit` is capped at 1000 (a 422 above it names the cap), `offset` pages
 * through the log by position, and the answer is streamed in chunks.
 */
import { PLATFORMS, call, startServer, type TestServer } from '../e2e/server/server.helpers';

const MAX = 1000;

describe.each(PLATFORMS)('audit listing is bounded and pages (%s)', (platform) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(platform);
    for (let i = 0; i < 25; i++) {
      const answer = await call(server, 'POST', '/v1/gateway/execute', {
        session_id: 'sess_0123456789abcdef',
        agent_id: 'agent-list',
        action: 'email.send',
        parameters: { i },
        decision: 'ALLOW',
      });
      expect(answer.status).toBe(200);
    }
  });
  afterAll(async () => {
    await server.close();
  });

  const list = (query: string) => call(server, 'GET', `/v1/audit/${server.tenantId}?${query}`);
  const positions = (answer: { body: { events: Array<{ position: number }> } }) =>
    answer.body.events.map((event) => event.position);

  it.each([String(MAX + 1), '10000'])('limit=%s is a 422 naming the cap', async (limit) => {
    const answer = await list(`limit=${limit}`);
    expect(answer.status).toBe(422);
    expect(answer.body.detail).toEqual([
      expect.objectContaining({
        type: 'less_than_equal',
        loc: ['query', 'limit'],
        msg: `Input should be less than or equal to ${MAX}`,
        ctx: { le: MAX },
      }),
    ]);
  });

  it('limit=1000 is accepted; without offset the most recent events come, oldest first', async () => {
    const all = await list(`limit=${MAX}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toMatch(/^application\/json/);
    expect(positions(all)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(positions(await list('limit=3'))).toEqual([22, 23, 24]);
    expect(all.body.events[4]).toMatchObject({
      position: 4,
      parameters: { i: 4 },
      kind: 'decision',
    });
  });

  it('offset pages forward from a position', async () => {
    expect(positions(await list('offset=0&limit=10'))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(positions(await list('offset=10&limit=10'))).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
    expect(positions(await list('offset=20&limit=10'))).toEqual([20, 21, 22, 23, 24]);
    expect(positions(await list('offset=25&limit=10'))).toEqual([]);
    expect(positions(await list('offset=5&limit=0'))).toEqual([]);
    const defaultLimit = await list('offset=0');
    expect(positions(defaultLimit)).toHaveLength(25);
  });

  it('a bad offset is a 422 naming it', async () => {
    const negative = await list('offset=-1');
    expect(negative.status).toBe(422);
    expect(negative.body.detail[0]).toMatchObject({
      loc: ['query', 'offset'],
      type: 'greater_than_equal',
    });
    const text = await list('offset=x');
    expect(text.status).toBe(422);
    expect(text.body.detail[0]).toMatchObject({ loc: ['query', 'offset'], type: 'int_parsing' });
  });
});
