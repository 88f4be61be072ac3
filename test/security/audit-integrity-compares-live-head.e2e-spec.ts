/*
 * Finding 8 (server part) and 10 (missing file): `GET /v1/audit/integrity`
 * must not trust the disk alone. A consistent shorter log swapped in by rename
 * (with a matching anchor) verified as valid while the server listed more
 * events; now the file's verification is compared with the head the server
 * holds in memory (event count and last hash). A forged event appended with a
 * correct hash is caught the same way. A deleted file is `valid: false` with a
 * violation saying so, not a 500.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../lib/protocol/canonical-json';
import { PLATFORMS, call, startServer, type TestServer } from '../e2e/server/server.helpers';

const SESSION = 'sess_0123456789abcdef';
const body = (i: number) => ({
  session_id: SESSION,
  agent_id: 'agent-live',
  action: i % 3 === 0 ? 'data.delete' : 'email.send',
  parameters: { i },
  decision: 'ALLOW',
});

describe.each(PLATFORMS)('integrity compares the file with the live head (%s)', (platform) => {
  let server: TestServer;
  let file: string;

  beforeEach(async () => {
    server = await startServer(platform);
    file = join(server.auditDir, `${server.tenantId}.audit.jsonl`);
    for (let i = 0; i < 10; i++) {
      expect((await call(server, 'POST', '/v1/gateway/execute', body(i))).status).toBe(200);
    }
  });
  afterEach(async () => {
    await server.close();
  });

  const integrity = async () => {
    const answer = await call(server, 'GET', `/v1/audit/integrity/${server.tenantId}`);
    expect(answer.status).toBe(200);
    return answer.body.integrity;
  };

  it('is valid for the untouched log, also while calls are being appended', async () => {
    expect(await integrity()).toMatchObject({ valid: true, events_checked: 10, violations: [] });
    const calls = Array.from({ length: 40 }, (_, i) =>
      call(server, 'POST', '/v1/gateway/execute', body(100 + i)),
    );
    const checks = Array.from({ length: 8 }, () => integrity());
    const results = await Promise.all(checks);
    await Promise.all(calls);
    for (const result of results) expect(result).toMatchObject({ valid: true, violations: [] });
    expect(await integrity()).toMatchObject({ valid: true, events_checked: 50 });
  });

  it('a consistent prefix swapped in by rename (anchor included) is not valid', async () => {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const prefix = lines.slice(0, 3);
    const last = JSON.parse(prefix[2]) as { position: number; hash: string };
    writeFileSync(`${file}.swap`, prefix.map((line) => `${line}\n`).join(''));
    writeFileSync(`${file}.head.swap`, `${JSON.stringify({ position: 2, hash: last.hash })}\n`);
    renameSync(`${file}.swap`, file);
    renameSync(`${file}.head.swap`, `${file}.head`);

    // The log keeps no copy of its events (retainEvents is false by default):
    // the listing reads the file, so it shows the 3 swapped in, while the
    // server's live head still counts the 10 it wrote; integrity reports it.
    const listed = await call(server, 'GET', `/v1/audit/${server.tenantId}?limit=100`);
    expect(listed.body.events.map((event: { position: number }) => event.position)).toEqual([
      0, 1, 2,
    ]);
    const result = await integrity();
    expect(result.valid).toBe(false);
    expect(result.events_checked).toBe(3);
    expect(result.first_broken_position).toBe(3);
    expect(result.violations).toEqual([
      expect.objectContaining({
        position: 3,
        problem: 'live-head-mismatch',
        expected: 10,
        actual: 3,
        message: expect.stringMatching(/10 events/),
      }),
    ]);
  });

  it('a forged event appended with a correct hash is not valid', async () => {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const last = JSON.parse(lines[9]) as Record<string, unknown>;
    const forged: Record<string, unknown> = {
      ...last,
      id: 'forged',
      position: 10,
      prevHash: last.hash,
      decision: 'ALLOW',
    };
    delete forged.hash;
    forged.hash = createHash('sha256').update(canonicalJson(forged)).digest('hex');
    writeFileSync(file, `${lines.join('\n')}\n${canonicalJson(forged)}\n`);

    const result = await integrity();
    expect(result.valid).toBe(false);
    expect(result.first_broken_position).toBe(10);
    expect(result.violations).toEqual([
      expect.objectContaining({ position: 10, event_id: 'forged', problem: 'live-head-mismatch' }),
    ]);
  });

  it('a deleted file is `valid: false` with a violation saying it is missing (not a 500)', async () => {
    unlinkSync(file);
    const result = await integrity();
    expect(result).toMatchObject({ valid: false, events_checked: 0, first_broken_position: 0 });
    expect(result.violations[0]).toMatchObject({
      position: 0,
      problem: 'missing',
      message: expect.stringMatching(/missing/),
    });
  });
});
