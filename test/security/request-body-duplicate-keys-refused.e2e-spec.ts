/*
 * Finding 8 (bodies): JSON.parse keeps the last of two equal keys, so a body
 * like {"action":"data.delete", ..., "action":"email.send"} means one thing to
 * a proxy, a WAF or a log reader that keeps the first, and another to us. The
 * server refuses a body with a duplicate key at any depth with a FastAPI-style
 * 422 naming where it is, before anything is decided or recorded.
 */
import { readJsonBody } from '../../lib/server/body';
import { WireHttpError } from '../../lib/server/errors';
import { findDuplicateKey } from '../../lib/server/json-duplicate-keys';
import { PLATFORMS, call, startServer, type TestServer } from '../e2e/server/server.helpers';

const START = '{"session_id":"sess_0123456789abcdef","agent_id":"agent-dup","decision":"ALLOW"';

describe.each(PLATFORMS)('request bodies with duplicate keys (%s)', (platform) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(platform);
  });
  afterAll(async () => {
    await server.close();
  });

  const execute = (text: string) => call(server, 'POST', '/v1/gateway/execute', text);
  const recorded = async () =>
    (await call(server, 'GET', `/v1/audit/${server.tenantId}?limit=1000`)).body.events.length;

  it.each([
    [
      'a top-level key',
      `${START},"action":"data.delete","parameters":{"table":"users"},"action":"email.send"}`,
      ['body', 'action'],
    ],
    [
      'a key of the parameters',
      `${START},"action":"payments.initiate","parameters":{"amount":5000,"amount":50}}`,
      ['body', 'parameters', 'amount'],
    ],
    [
      'a key inside an array of objects',
      `${START},"action":"email.send","parameters":{"to":[{"id":1},{"id":2,"cc":0,"id":3}]}}`,
      ['body', 'parameters', 'to', 1, 'id'],
    ],
    [
      'the same key spelt with an escape',
      `${START},"action":"payments.initiate","parameters":{"amount":5000,"\\u0061mount":50}}`,
      ['body', 'parameters', 'amount'],
    ],
  ])('%s: 422 naming the location, nothing recorded', async (_, text, loc) => {
    const before = await recorded();
    const answer = await execute(text);
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      detail: [
        {
          type: 'json_invalid',
          loc,
          msg: 'JSON decode error',
          input: {},
          ctx: { error: `Duplicate key '${String(loc[loc.length - 1])}'` },
        },
      ],
    });
    expect(await recorded()).toBe(before);
  });

  it('equal keys in different objects are not duplicates', async () => {
    const answer = await execute(
      `${START},"action":"email.send","parameters":{"a":{"id":1},"b":{"id":1},"c":[{"id":1},{"id":1}]}}`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.decision).toBe('ALLOW');
  });

  it('the decide body goes through the same reader (readJsonBody), also as a host-parsed text', async () => {
    const refused = await readJsonBody(
      { body: '{"decision":"APPROVE","approver_id":"alice","decision":"REJECT"}' },
      1024,
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WireHttpError);
    expect((refused as WireHttpError).status).toBe(422);
    expect((refused as WireHttpError).body).toMatchObject({
      detail: [{ type: 'json_invalid', loc: ['body', 'decision'] }],
    });
  });
});

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"a":{"b":1,"c":{"d":[1,{"e":1,"e":2}]}}}', ['a', 'c', 'd', 1, 'e']],
    ['[{"x":1},[{"y":1,"y":1}]]', [1, 0, 'y']],
    ['{"k\\"q":1,"k\\u0022q":2}', ['k"q']],
    ['{"a":"x:y,\\"}","a":1}', ['a']],
  ])('%s → %j', (text, path) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findDuplicateKey(text)).toEqual(path);
  });

  it.each([
    '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}',
    '{"a":"a","b":"a:b"}',
    '[1,2,{"a":[]},"{\\"a\\":1,\\"a\\":2}"]',
    '{"":1,"x":{"":2}}',
    '"just a string: with a colon"',
    '{}',
  ])('%s has none', (text) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(findDuplicateKey(text)).toBeNull();
  });

  // Its speed is a benchmark's business, not a test's (a timed assertion fails on a busy machine).
  it('a 1 MiB body: none among 20 000 distinct keys, and the one repeated key at its very end', () => {
    const parameters = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`key${i}`, { v: `value ${i}: ${'x'.repeat(20)}` }]),
    );
    const text = JSON.stringify({ action: 'a', parameters });
    expect(text.length).toBeGreaterThan(800_000);
    expect(findDuplicateKey(text)).toBeNull();
    const repeated = `${text.slice(0, -2)},"key19999":{"v":"again"}}}`;
    expect(() => JSON.parse(repeated)).not.toThrow();
    expect(findDuplicateKey(repeated)).toEqual(['parameters', 'key19999']);
  });
});

// The server passes what JSON.parse made of the text: a count of keys clears most texts without the scan.
describe('findDuplicateKey given the parsed value', () => {
  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"a":{"b":1,"c":{"d":[1,{"e":1,"e":2}]}}}', ['a', 'c', 'd', 1, 'e']],
    ['[{"x":1},[{"y":1,"y":1}]]', [1, 0, 'y']],
    ['{"k\\"q":1,"k\\u0022q":2}', ['k"q']],
    ['{"a":"x:y,\\"}","a":1}', ['a']],
    ['{"__proto__":1,"__proto__":2}', ['__proto__']],
    ['{"a":"\\\\","a":1}', ['a']],
    ['{"a":"\\\\\\":","b":{"c":1,"c":":"}}', ['b', 'c']],
  ])('%s → %j', (text, path) => {
    expect(findDuplicateKey(text, JSON.parse(text))).toEqual(path);
  });

  it.each([
    '{"a":1,"b":{"a":1},"c":[{"a":1},{"a":1}]}',
    '{"a":"a","b":"a:b"}',
    '[1,2,{"a":[]},"{\\"a\\":1,\\"a\\":2}"]',
    '{"":1,"x":{"":2}}',
    '{"__proto__":{"a":1},"a":{"__proto__":null}}',
    '{"a":"\\\\","b":"\\\\\\":\\\\"}',
    '{ "a" : 1 , "b" : [ { "a" : null } ] }',
  ])('%s has none', (text) => {
    expect(findDuplicateKey(text, JSON.parse(text))).toBeNull();
  });

  it('any depth JSON.parse takes (no recursion), with the duplicate at the bottom', () => {
    const depth = 100_000;
    const clean = `${'{"a":['.repeat(depth)}{"b":1,"c":2}${']}'.repeat(depth)}`;
    expect(findDuplicateKey(clean, JSON.parse(clean))).toBeNull();
    const repeated = `${'{"a":['.repeat(3)}{"b":1,"b":2}${']}'.repeat(3)}`;
    expect(findDuplicateKey(repeated, JSON.parse(repeated))).toEqual(['a', 0, 'a', 0, 'a', 0, 'b']);
  });
});
