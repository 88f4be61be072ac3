import { createHash } from 'node:crypto';
import { ProvenanceConfigError } from '../../../lib/protocol/provenance.errors';
import {
  ApiKeyRing,
  apiKeyDigest,
  apiKeyPrefix,
  generateApiKey,
} from '../../../lib/server/api-keys';

const policy = { name: 'p', rules: [] };

describe('gateway server API keys', () => {
  it('generates pk_<env>_ + 43 url-safe characters, never twice the same', () => {
    const a = generateApiKey();
    const b = generateApiKey('test');
    expect(a).toMatch(/^pk_live_[A-Za-z0-9_-]{43}$/);
    expect(b).toMatch(/^pk_test_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(a);
    expect(() => generateApiKey('bad env')).toThrow(ProvenanceConfigError);
  });

  it('prefix is pk_<env>_<first 8 of body>; digest is the hex SHA-256 of the whole key', () => {
    expect(apiKeyPrefix('pk_live_abcdefghXYZ')).toBe('pk_live_abcdefgh');
    expect(apiKeyPrefix('pk_live_short')).toBeNull();
    expect(apiKeyPrefix('sk_live_abcdefghij')).toBeNull();
    expect(apiKeyDigest('pk_live_abcdefghXYZ')).toBe(
      createHash('sha256').update('pk_live_abcdefghXYZ').digest('hex'),
    );
  });

  it('finds the scope of a configured key, by clear key or by prefix + digest', () => {
    const clear = 'pk_live_AAAAAAAA_one';
    const hashedOnly = 'pk_test_BBBBBBBB_two';
    const ring = new ApiKeyRing([
      { key: clear, tenantId: 't1', policy },
      {
        prefix: 'pk_test_BBBBBBBB',
        sha256: createHash('sha256').update(hashedOnly).digest('hex').toUpperCase(),
        tenantId: 't2',
        policyId: 'policy-2',
        policy,
      },
    ]);
    // Role defaults to agent, with no principal and no agent binding.
    expect(ring.lookup(clear)).toEqual({
      tenantId: 't1',
      policyId: 't1',
      role: 'agent',
      principal: null,
      agentId: null,
    });
    expect(ring.lookup(hashedOnly)).toEqual({
      tenantId: 't2',
      policyId: 'policy-2',
      role: 'agent',
      principal: null,
      agentId: null,
    });
    expect(ring.size).toBe(2);
  });

  it('keys sharing a prefix are told apart by digest; wrong keys and non-strings are refused', () => {
    const one = 'pk_live_SAMEPREF_one';
    const two = 'pk_live_SAMEPREF_two';
    const ring = new ApiKeyRing([
      { key: one, tenantId: 'a', policy },
      { key: two, tenantId: 'b', policy },
    ]);
    expect(ring.lookup(one)?.tenantId).toBe('a');
    expect(ring.lookup(two)?.tenantId).toBe('b');
    for (const wrong of [
      'pk_live_SAMEPREF_six',
      'pk_live_OTHERPRE_one',
      '',
      'x'.repeat(600),
      42,
      null,
    ]) {
      expect(ring.lookup(wrong)).toBeNull();
    }
  });

  it('refuses malformed or repeated keys without showing them', () => {
    const secret = 'pk_live_x';
    const error = (() => {
      try {
        new ApiKeyRing([{ key: secret, tenantId: 't', policy }]);
      } catch (e) {
        return e as ProvenanceConfigError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(ProvenanceConfigError);
    expect(error.option).toBe('keys[0].key');
    expect(error.message).not.toContain(secret);
    const key = generateApiKey();
    expect(
      () =>
        new ApiKeyRing([
          { key, tenantId: 'a', policy },
          { key, tenantId: 'b', policy },
        ]),
    ).toThrow(/keys\[1\] repeats/);
    expect(
      () =>
        new ApiKeyRing([{ prefix: 'pk_live_abc', sha256: 'f'.repeat(64), tenantId: 't', policy }]),
    ).toThrow(/prefix/);
    expect(
      () =>
        new ApiKeyRing([{ prefix: 'pk_live_abcdefgh', sha256: 'nothex', tenantId: 't', policy }]),
    ).toThrow(/sha256/);
  });

  it('carries the role, the reviewer principal and the agent binding, never the key', () => {
    const reviewer = generateApiKey('test');
    const bound = generateApiKey('test');
    const ring = new ApiKeyRing([
      { key: reviewer, tenantId: 't', role: 'reviewer', principal: 'cfo@example.com' },
      { key: bound, tenantId: 't', policy, agentId: 'payments-agent' },
    ]);
    const scope = ring.lookup(reviewer);
    expect(scope).toEqual({
      tenantId: 't',
      policyId: 't',
      role: 'reviewer',
      principal: 'cfo@example.com',
      agentId: null,
    });
    expect(JSON.stringify(scope)).not.toContain(reviewer);
    expect(ring.lookup(bound)).toMatchObject({
      role: 'agent',
      principal: null,
      agentId: 'payments-agent',
    });
  });

  it('refuses bad role fields, naming keys[i].<field>', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ role: 'admin' }, 'keys[0].role'],
      [{ role: 'reviewer' }, 'keys[0].principal'],
      [{ role: 'reviewer', principal: 'a\nb' }, 'keys[0].principal'],
      [{ role: 'reviewer', principal: 'x'.repeat(257) }, 'keys[0].principal'],
      [{ role: 'reviewer', principal: 'cfo', agentId: 'a' }, 'keys[0].agentId'],
      [{ principal: 'cfo' }, 'keys[0].principal'],
      [{ agentId: '' }, 'keys[0].agentId'],
    ];
    for (const [fields, option] of cases) {
      let error: unknown;
      try {
        new ApiKeyRing([
          { key: generateApiKey('test'), tenantId: 't', policy, ...fields } as never,
        ]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProvenanceConfigError);
      expect((error as ProvenanceConfigError).option).toBe(option);
    }
  });
});
