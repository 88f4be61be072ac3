import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateApiKey } from '../../../lib/server/api-keys';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

/** `npm run gateway` without npm: the same command line, PORT=0, in a temp working directory. */
async function start(env: Record<string, string>, cwd: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['-r', path.join(ROOT, 'scripts/swc-register.js'), path.join(ROOT, 'lib/server/main.ts')],
    {
      cwd,
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line:\n${output}`)), 20_000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match && output.includes('curl')) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited early:\n${output}`));
    });
  });
  return { child, output: () => output, url };
}

/** SIGTERM, as a process manager stops it; resolves with how it ended. */
function stop(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    const ended = () => `${child.exitCode ?? child.signalCode}`;
    if (child.exitCode !== null || child.signalCode !== null) return resolve(ended());
    child.once('exit', () => resolve(ended()));
    child.kill('SIGTERM');
  });
}

describe('npm run gateway (lib/server/main.ts)', () => {
  let dir: string;
  let started: Started | null = null;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provenance-standalone-'));
  });
  afterEach(async () => {
    if (started) await stop(started.child);
    started = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('generates a key and tenant, prints them with a curl line that works, with the sample policy', async () => {
    started = await start({ PROVENANCE_AUDIT_DIR: path.join(dir, 'audit') }, dir);
    const out = started.output();
    const key = /API key:\s+(pk_live_[A-Za-z0-9_-]{43})/.exec(out)?.[1];
    const tenant = /tenant id:\s+(\S+)/.exec(out)?.[1];
    expect(key).toBeDefined();
    expect(out).toContain(path.join(ROOT, 'sample', 'policy.yml'));
    // The printed curl line, sent as curl would.
    const curl =
      /curl -s (\S+) -H 'X-PROVENANCE-API-KEY: (\S+)' -H 'Content-Type: application\/json' -d '(.*)'/.exec(
        out,
      )!;
    expect(curl[2]).toBe(key);
    const response = await fetch(curl[1], {
      method: 'POST',
      headers: { 'X-PROVENANCE-API-KEY': curl[2], 'Content-Type': 'application/json' },
      body: curl[3],
    });
    // sample/policy.yml: 50 GBP passes the currency rule, is not > 500, is in (0, 500] → ALLOW.
    expect(await response.json()).toMatchObject({
      decision: 'ALLOW',
      reason: 'Payment within approved parameters',
    });
    const audit = await fetch(`${started.url}/v1/audit/${tenant}`, {
      headers: { 'X-PROVENANCE-API-KEY': key! },
    });
    expect(((await audit.json()) as { events: unknown[] }).events).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'audit', `${tenant}.audit.jsonl`))).toBe(true);
    // Nest closes the app on SIGTERM, then re-raises the signal: ended by it, not by a crash code.
    expect(await stop(started.child)).toMatch(/^(0|SIGTERM)$/);
    started = null;
  });

  it('uses the key, tenant, timeout and policy from the environment, and does not print a given key', async () => {
    const key = generateApiKey('test');
    const policy = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policy,
      JSON.stringify({ name: 'p', rules: [{ action: '*', on_match: 'ESCALATE', reason: 'ask' }] }),
    );
    started = await start(
      {
        PROVENANCE_API_KEY: key,
        PROVENANCE_TENANT_ID: 'acme',
        PROVENANCE_POLICY: policy,
        PROVENANCE_ESCALATION_TIMEOUT_MS: '100',
        PROVENANCE_AUDIT_DIR: path.join(dir, 'audit'),
      },
      dir,
    );
    expect(started.output()).not.toContain(key);
    expect(started.output()).toContain('tenant id:  acme');
    const response = await fetch(`${started.url}/v1/gateway/execute`, {
      method: 'POST',
      headers: { 'X-PROVENANCE-API-KEY': key, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        session_id: 's',
        agent_id: 'a',
        action: 'x.y',
        parameters: {},
        decision: 'BLOCK',
      }),
    });
    // Held for the 100 ms timeout, then the reference text.
    expect(await response.json()).toMatchObject({
      decision: 'BLOCK',
      reason: 'Escalation TIMEOUT — action blocked',
    });
  });

  it('refuses a malformed PROVENANCE_API_KEY without printing it', async () => {
    const bad = 'not-a-key-secret-value';
    await expect(start({ PROVENANCE_API_KEY: bad }, dir)).rejects.toThrow(
      /PROVENANCE_API_KEY does not look like/,
    );
    await expect(start({ PROVENANCE_API_KEY: bad }, dir)).rejects.not.toThrow(new RegExp(bad));
  });
});
