import { ProvenanceClient, ProvenanceConfigError } from '../../../lib';
import { redactUrl } from '../../../lib/notify/redact-url';

const SECRET = 'whsec_unit_0123456789abcdef';
const policy = { name: 'p', rules: [{ action: '*', on_match: 'ALLOW' as const }] };

function refusal(notify: unknown): ProvenanceConfigError {
  try {
    new ProvenanceClient({
      agentId: 'a',
      policy,
      audit: { store: 'memory' },
      notify: notify as never,
    });
  } catch (error) {
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    return error as ProvenanceConfigError;
  }
  throw new Error('accepted');
}

describe('the notify option', () => {
  it('names the field at fault', () => {
    expect(refusal({ url: 'x' }).message).toMatch(/`notify` must be an array/);
    expect(refusal(['x']).message).toMatch(/`notify\[0\]` must be an object/);
    expect(refusal([{ url: 'ftp://x', secret: SECRET }]).message).toMatch(/`notify\[0\]\.url`/);
    expect(
      refusal([
        { url: 'http://127.0.0.1/a', secret: SECRET },
        { url: 'http://127.0.0.1/b', secret: SECRET, events: ['approved', 'nope'] },
      ]).message,
    ).toMatch(/`notify\[1\]\.events`/);
    expect(refusal([{ url: 'http://h/', secret: SECRET, timeout: 0 }]).message).toMatch(
      /`notify\[0\]\.timeout`/,
    );
    expect(refusal([{ url: 'http://h/', secret: SECRET, maxAttempts: 1.5 }]).message).toMatch(
      /`notify\[0\]\.maxAttempts`/,
    );
    expect(refusal([{ url: 'http://h/', secret: SECRET, retries: 3 }]).message).toMatch(
      /unknown option `notify\[0\]\.retries`/,
    );
  });

  it('never shows the secret, even a too-short one', () => {
    const error = refusal([{ url: 'http://h/', secret: 'short-secret' }]);
    expect(error.message).toMatch(/`notify\[0\]\.secret`/);
    expect(error.message).not.toContain('short-secret');
  });

  it('does not repeat the credentials of a bad URL', () => {
    const error = refusal([{ url: 'gopher://bob:hunter2@h/x?token=t0k', secret: SECRET }]);
    expect(error.message).toMatch(/`notify\[0\]\.url`/);
    expect(error.message).not.toMatch(/hunter2|t0k/);
  });

  it('accepts a valid list, and none', () => {
    const client = new ProvenanceClient({
      agentId: 'a',
      policy,
      audit: { store: 'memory' },
      notify: [{ url: 'https://ops.example.com/hook', secret: SECRET, events: ['pending'] }],
    });
    expect(client.options.notify).toHaveLength(1);
    const none = new ProvenanceClient({ agentId: 'a', policy, audit: { store: 'memory' } });
    expect(none.options.notify).toEqual([]);
    return Promise.all([client.close(), none.close()]);
  });
});

describe('redactUrl', () => {
  it('hides user, password and query', () => {
    expect(redactUrl('https://bob:hunter2@ops.example.com/hook?token=t0k#x')).toBe(
      'https://***@ops.example.com/hook?***',
    );
    expect(redactUrl('http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/hook');
    expect(redactUrl('not a url')).toBe('(not a URL)');
  });
});
