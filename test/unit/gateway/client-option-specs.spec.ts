import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import { ProvenanceClient } from '../../../lib/gateway/provenance.client';
import { resolveClientOptions } from '../../../lib/gateway/provenance-client.options-resolver';

const KEY = 'pk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
const EMBEDDED = { agentId: 'a', policy: 'p.yml' };

function configError(fn: () => unknown): ProvenanceConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    return error as ProvenanceConfigError;
  }
  throw new Error('expected a ProvenanceConfigError');
}

function resolve(options: Record<string, unknown>, env: Record<string, string> = {}) {
  return resolveClientOptions(options as never, { env });
}

describe('client options: allowEmptyPolicy', () => {
  it('defaults to false and resolves a boolean as given', () => {
    expect(resolve(EMBEDDED).allowEmptyPolicy).toBe(false);
    expect(resolve({ ...EMBEDDED, allowEmptyPolicy: true }).allowEmptyPolicy).toBe(true);
  });

  it.each(['yes', 1, {}])('refuses %j naming the option', (value) => {
    const e = configError(() => resolve({ ...EMBEDDED, allowEmptyPolicy: value }));
    expect(e.option).toBe('allowEmptyPolicy');
    expect(e.message).toContain('`allowEmptyPolicy` must be true or false');
  });

  it('is listed among the known options', () => {
    const e = configError(() => resolve({ ...EMBEDDED, allowEmptyPolcy: true }));
    expect(e.message).toContain('allowEmptyPolicy');
  });
});

describe('client options: keys of the Nest module are not client options', () => {
  it.each(['sessionHeader', 'isGlobal'])(
    'new ProvenanceClient({ %s }) is refused, naming it',
    (key) => {
      const e = configError(() => new ProvenanceClient({ ...EMBEDDED, [key]: false } as never));
      expect(e.option).toBe(key);
      expect(e.message).toContain(`unknown option \`${key}\``);
      expect(e.message).toContain('known options: gatewayUrl, agentId');
    },
  );

  it('bindHttpSessions, which nothing ever read, is an unknown option', () => {
    const e = configError(() => resolve({ ...EMBEDDED, bindHttpSessions: true }));
    expect(e.option).toBe('bindHttpSessions');
  });

  it('reviewer (deprecated on the client) is accepted, ignored, and warned about once', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const r = resolve({ ...EMBEDDED, reviewer: { pollInterval: 5 } });
      resolve({ ...EMBEDDED, reviewer: { pollInterval: 5 } });
      expect(r).not.toHaveProperty('reviewer');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/`reviewer`.*ProvenanceModule\.forRoot/);
      expect(warn.mock.calls[0][1]).toMatchObject({ type: 'DeprecationWarning' });
    } finally {
      warn.mockRestore();
    }
  });
});

describe('client options: errors say how to set the option', () => {
  it('names the environment variable of an option that has one', () => {
    const e = configError(() => resolve({ agentId: 42, policy: 'p' }));
    expect(e.option).toBe('agentId');
    expect(e.message).toContain('PROVENANCE_AGENT_ID');
  });

  it('says when the bad value was read from the environment', () => {
    const e = configError(() =>
      resolve({ agentId: 'a' }, { PROVENANCE_GATEWAY_URL: 'ftp://x', PROVENANCE_API_KEY: KEY }),
    );
    expect(e.option).toBe('gatewayUrl');
    expect(e.message).toMatch(/got 'ftp:\/\/x'.*read from PROVENANCE_GATEWAY_URL/);
  });

  it('never shows an API key read from the environment', () => {
    const secret = 'sk-not-a-provenance-key-SECRET123';
    const e = configError(() =>
      resolve({ agentId: 'a' }, { PROVENANCE_GATEWAY_URL: 'http://x', PROVENANCE_API_KEY: secret }),
    );
    expect(e.option).toBe('apiKey');
    expect(e.message).toContain('PROVENANCE_API_KEY');
    expect(e.message).not.toContain(secret);
  });

  it('suggests the known option an unknown one differs from only in case', () => {
    const e = configError(() => resolve({ ...EMBEDDED, gatewayURL: 'http://x' }));
    expect(e.message).toContain('Did you mean `gatewayUrl`?');
  });
});

describe('client options: values of the wrong type are refused, naming the option', () => {
  it.each([
    [{ asyncEscalation: 'no' }, 'asyncEscalation'],
    [{ audit: { durable: 'yes' } }, 'audit.durable'],
    [{ audit: { stroe: 'memory' } }, 'audit.stroe'],
    [{ audit: 'memory' }, 'audit'],
    [{ logger: false }, 'logger'],
    [{ redact: 'all' }, 'redact'],
    [{ tenantId: 7 }, 'tenantId'],
    [{ maxParametersBytes: 0 }, 'maxParametersBytes'],
  ])('%j: %s', (options, option) => {
    const e = configError(() => resolve({ ...EMBEDDED, ...options }));
    expect(e.option).toBe(option);
    expect(e.message).toContain(`\`${option}\``);
  });

  it('treats null as not set', () => {
    const r = resolve({ ...EMBEDDED, onGatewayError: null, audit: null, logger: null });
    expect([r.onGatewayError, r.audit.store, r.logger]).toEqual(['closed', 'file', null]);
  });

  it('hides the API key from enumeration but resolves it', () => {
    const r = resolve({ gatewayUrl: 'http://x', agentId: 'a', apiKey: KEY });
    expect(Object.keys(r)).not.toContain('apiKey');
    expect(r.apiKey).toBe(KEY);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['mode', 'allowEmptyPolicy', 'audit']));
  });
});
