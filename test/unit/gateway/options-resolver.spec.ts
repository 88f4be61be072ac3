import { inspect } from 'node:util';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { resolveClientOptions } from '../../../lib/gateway/provenance-client.options-resolver';

const KEY = 'pk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

function configError(fn: () => unknown): ProvenanceConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    return error as ProvenanceConfigError;
  }
  throw new Error('expected a ProvenanceConfigError');
}

describe('resolveClientOptions', () => {
  it('chooses HTTP mode with a gatewayUrl and fills the Python SDK defaults', () => {
    const r = resolveClientOptions(
      { gatewayUrl: 'http://localhost:4587', agentId: 'a1', apiKey: KEY },
      { env: {} },
    );
    expect(r.mode).toBe('http');
    expect(r.onGatewayError).toBe('closed');
    expect(r.timeout).toBe(90_000);
    expect(r.defaultSession).toMatch(/^sess_[0-9a-f]{16}$/);
    expect(r.apiKey).toBe(KEY);
  });

  it('chooses the embedded gateway with a policy and no URL', () => {
    const r = resolveClientOptions({ agentId: 'a1', policy: 'policy.yml' }, { env: {} });
    expect(r.mode).toBe('embedded');
    expect(r.escalationTimeout).toBe(60_000);
    expect(r.audit).toEqual({ store: 'file', path: '.provenance/audit.jsonl', durable: true });
  });

  it('falls back to PROVENANCE_* environment variables', () => {
    const r = resolveClientOptions(
      {},
      {
        env: {
          PROVENANCE_GATEWAY_URL: 'https://gw.example',
          PROVENANCE_AGENT_ID: 'env-agent',
          PROVENANCE_API_KEY: KEY,
        },
      },
    );
    expect([r.mode, r.gatewayUrl, r.agentId]).toEqual(['http', 'https://gw.example', 'env-agent']);
    const e = resolveClientOptions(
      {},
      { env: { PROVENANCE_AGENT_ID: 'x', PROVENANCE_POLICY: 'p.yml' } },
    );
    expect([e.mode, e.policy]).toEqual(['embedded', 'p.yml']);
  });

  it('names both ways to fix a missing gateway', () => {
    const e = configError(() => resolveClientOptions({ agentId: 'a' }, { env: {} }));
    expect(e.message).toContain('gatewayUrl');
    expect(e.message).toContain('PROVENANCE_GATEWAY_URL');
    expect(e.message).toContain('policy');
    expect(e.message).toContain('PROVENANCE_POLICY');
  });

  it.each([
    [{ policy: 'p.yml' }, 'agentId'],
    [{ agentId: 'a', gatewayUrl: 'http://x' }, 'apiKey'],
    [{ agentId: 'a', gatewayUrl: 'ftp://x', apiKey: KEY }, 'gatewayUrl'],
    [{ agentId: 'a', gatewayUrl: 'not a url', apiKey: KEY }, 'gatewayUrl'],
    [{ agentId: 'a', policy: 'p', onGatewayError: 'sometimes' }, 'onGatewayError'],
    [{ agentId: 'a', policy: 'p', timeout: -1 }, 'timeout'],
    [{ agentId: 'a', policy: 'p', timeout: 1.5 }, 'timeout'],
    [{ agentId: 'a', policy: 'p', escalationTimeout: '60' }, 'escalationTimeout'],
    [{ agentId: 'a', policy: 'p', defaultSession: 'has space' }, 'defaultSession'],
    [{ agentId: 'a', policy: 'p', audit: { store: 'redis' } }, 'audit.store'],
    [{ agentId: 'a', policy: 'p', gatewayURL: 'http://x' }, 'gatewayURL'],
    [{ agentId: 'a', policy: 42 }, 'policy'],
  ])('rejects %j naming %s', (options, option) => {
    const e = configError(() => resolveClientOptions(options as never, { env: {} }));
    expect(e.option).toBe(option);
    expect(e.message).toContain(option);
  });

  it('rejects a malformed API key without printing it', () => {
    const secret = 'not-a-provenance-key-SECRET123';
    const e = configError(() =>
      resolveClientOptions({ agentId: 'a', gatewayUrl: 'http://x', apiKey: secret }, { env: {} }),
    );
    expect(e.option).toBe('apiKey');
    expect(e.message).not.toContain(secret);
  });

  it('keeps the API key out of JSON and inspect output of the resolved options', () => {
    const r = resolveClientOptions(
      { gatewayUrl: 'http://x', agentId: 'a', apiKey: KEY },
      { env: {} },
    );
    expect(JSON.stringify(r)).not.toContain(KEY);
    expect(inspect(r, { depth: 10 })).not.toContain(KEY);
  });
});
