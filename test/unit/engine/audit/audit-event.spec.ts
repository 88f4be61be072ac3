import { createHash } from 'node:crypto';
import {
  chainEvent,
  computeEventHash,
  prepareEvent,
  releaseCanonicalText,
  serializeEvent,
  type AuditEventInput,
} from '../../../../lib/engine/audit/audit-event';
import { CanonicalJsonError } from '../../../../lib/engine/audit/audit.errors';
import { MAX_PARAMETER_DEPTH, normalizeParameters } from '../../../../lib/protocol/call-parameters';
import { canonicalJson, canonicalTextOf } from '../../../../lib/protocol/canonical-json';
import { InvalidParametersError } from '../../../../lib/protocol/provenance.errors';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const PREV = 'f'.repeat(64);

const input: AuditEventInput = {
  tenantId: 't',
  sessionId: 's',
  agentId: 'a',
  action: 'x.y',
  parameters: { b: 1.5, a: 'é' },
  decision: 'ALLOW',
  reason: 'ok',
  kind: 'decision',
};

const chained = () => {
  const event = prepareEvent(input, new Date('2024-01-02T03:04:05.678Z'));
  event.id = 'id-1';
  return chainEvent(event, 3, PREV);
};

describe('audit event text', () => {
  // Written by hand from docs/protocol.md: keys sorted, ASCII only, no spaces.
  const parameters = '{"a":"\\u00e9","b":1.5}';
  const head =
    '{"action":"x.y","actorHumanId":null,"agentId":"a","decision":"ALLOW","escalationId":null';
  const tail =
    `"id":"id-1","kind":"decision","parameters":${parameters},"payloadHash":"${sha256(parameters)}",` +
    `"position":3,"prevHash":"${PREV}","reason":"ok","sessionId":"s","tenantId":"t",` +
    '"timestamp":"2024-01-02T03:04:05.678Z"}';

  it('hashes and stores the canonical text of every field', () => {
    const event = chained();
    const hash = sha256(`${head},${tail}`);
    expect(event.hash).toBe(hash);
    expect(computeEventHash(event)).toBe(hash);
    expect(serializeEvent(event)).toBe(`${head},"hash":"${hash}",${tail}\n`);
  });

  it('pushes the stored line it hashed, with the hash in its sorted place', () => {
    const event = prepareEvent(input, new Date('2024-01-02T03:04:05.678Z'));
    event.id = 'id-1';
    const lines: string[] = [];
    const linked = chainEvent(event, 3, PREV, lines);
    const hash = sha256(`${head},${tail}`);
    expect(linked.hash).toBe(hash);
    expect(lines).toEqual([`${head},"hash":"${hash}",${tail}\n`]);
  });

  it('pushes the line serializeEvent writes for every other shape, and for an event it copies by spread', () => {
    const shapes: AuditEventInput[] = [
      { ...input, approverReason: 'fine', actorHumanId: 'bob', escalationId: 'e' },
      { ...input, policyHash: 'p'.repeat(64), policyVersion: null },
      { ...input, approverReason: null, policyHash: 'p'.repeat(64), policyVersion: '7' },
    ];
    for (const shape of shapes) {
      const lines: string[] = [];
      const event = chainEvent(prepareEvent(shape), 0, PREV, lines);
      expect(lines).toEqual([serializeEvent(event)]);
      expect(lines[0]).toContain(`,"hash":"${event.hash}","id":`);
    }
    // A key chainEvent does not know: no written-out text, the spread and recordText instead.
    const odd = { ...prepareEvent(input), extra: 'x' };
    const lines: string[] = [];
    const event = chainEvent(odd, 0, PREV, lines);
    expect(lines).toEqual([serializeEvent(event)]);
    expect(lines[0]).toContain(',"extra":"x",');
    expect(computeEventHash(event)).toBe(event.hash);
  });

  it('quotes each event its own fields when consecutive events differ', () => {
    const reasons = ['ok', 'caf\u00e9 "x"', 'ok', 'tab\there'];
    const written = ['"ok"', '"caf\\u00e9 \\"x\\""', '"ok"', '"tab\\there"'];
    reasons.forEach((reason, i) => {
      const agentId = i % 2 === 0 ? 'a' : 'b\n';
      const line = serializeEvent(chainEvent(prepareEvent({ ...input, reason, agentId }), i, PREV));
      expect(line).toContain(`,"reason":${written[i]},`);
      expect(line).toContain(i % 2 === 0 ? ',"agentId":"a",' : ',"agentId":"b\\n",');
    });
  });

  it('writes approverReason in its sorted place', () => {
    const event = chainEvent(
      prepareEvent({ ...input, approverReason: 'fine', actorHumanId: 'bob', escalationId: 'e' }),
      0,
      PREV,
    );
    const line = serializeEvent(event);
    expect(line).toContain('"actorHumanId":"bob","agentId":"a","approverReason":"fine","decision"');
    expect(line).toBe(`${canonicalJson(event)}\n`);
    expect(event.hash).toBe(computeEventHash(event));
  });

  it('writes the policy pair between payloadHash and position, covered by the hash', () => {
    const policyHash = 'a'.repeat(64);
    const event = prepareEvent(
      { ...input, policyHash, policyVersion: '7' },
      new Date('2024-01-02T03:04:05.678Z'),
    );
    event.id = 'id-1';
    const chainedEvent = chainEvent(event, 3, PREV);
    const withPolicy = tail.replace(
      ',"position":3',
      `,"policyHash":"${policyHash}","policyVersion":"7","position":3`,
    );
    const hash = sha256(`${head},${withPolicy}`);
    expect(chainedEvent.hash).toBe(hash);
    expect(computeEventHash(chainedEvent)).toBe(hash);
    expect(serializeEvent(chainedEvent)).toBe(`${head},"hash":"${hash}",${withPolicy}\n`);
    // Another version is another hash: the chain covers it.
    expect(computeEventHash({ ...chainedEvent, policyVersion: '8' })).not.toBe(hash);
  });

  it('writes a null policy version, and the policy pair beside approverReason', () => {
    const event = chainEvent(
      prepareEvent({
        ...input,
        approverReason: 'fine',
        actorHumanId: 'bob',
        policyHash: 'b'.repeat(64),
        policyVersion: null,
      }),
      0,
      PREV,
    );
    expect(Object.keys(event).slice(12)).toEqual([
      'kind',
      'approverReason',
      'policyHash',
      'policyVersion',
      'position',
      'prevHash',
      'hash',
    ]);
    const line = serializeEvent(event);
    expect(line).toContain(`"policyHash":"${'b'.repeat(64)}","policyVersion":null,"position":0`);
    expect(line).toBe(`${canonicalJson(event)}\n`);
    expect(event.hash).toBe(computeEventHash(event));
  });

  it('leaves an event without a policy exactly as before (no policy members at all)', () => {
    const event = chained();
    expect('policyHash' in event).toBe(false);
    expect('policyVersion' in event).toBe(false);
    expect(serializeEvent(event)).not.toContain('policy');
  });

  it('stores what the event holds after a change, and any extra field', () => {
    const event = chained();
    event.reason = 'changed';
    expect(serializeEvent(event)).toContain('"reason":"changed"');
    expect(serializeEvent(event)).toBe(`${canonicalJson(event)}\n`);
    const extra = { ...chained(), note: 'x' };
    expect(serializeEvent(extra)).toBe(`${canonicalJson(extra)}\n`);
    expect(serializeEvent(extra)).toContain('"note":"x"');
  });
});

describe('event parameters and their canonical text', () => {
  const nest = (levels: number) => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = { d: value };
    return value as Record<string, unknown>;
  };

  it('splices the text the walker remembered for the parameters, and forgets it once stored', () => {
    const event = chainEvent(
      prepareEvent({ ...input, parameters: { z: [1, 2.5, null], a: -0 } }),
      0,
      PREV,
    );
    expect(canonicalTextOf(event.parameters)).toBe('{"a":0,"z":[1,2.5,null]}');
    expect(serializeEvent(event)).toContain(',"parameters":{"a":0,"z":[1,2.5,null]},');
    releaseCanonicalText([event]);
    expect(canonicalTextOf(event.parameters)).toBeUndefined();
    // Without the remembered text the same line is written, member by member.
    expect(serializeEvent(event)).toContain(',"parameters":{"a":0,"z":[1,2.5,null]},');
    expect(computeEventHash(event)).toBe(event.hash);
  });

  it('reuses the text of parameters normalizeParameters returned, without walking them', () => {
    const normalised = normalizeParameters('x.y', { b: 1.5, a: 'é' }, 1024) as Record<
      string,
      unknown
    >;
    const keys = jest.spyOn(Object, 'keys');
    try {
      const event = prepareEvent({ ...input, parameters: normalised });
      expect(keys.mock.calls.some(([value]) => value === normalised)).toBe(false);
      expect(event.payloadHash).toBe(sha256('{"a":"\\u00e9","b":1.5}'));
      expect(event.parameters).not.toBe(normalised);
    } finally {
      keys.mockRestore();
    }
  });

  it('hashes parameters MAX_PARAMETER_DEPTH deep inside the event that encloses them', () => {
    // nest(n): n objects, the parameters object being the first.
    const event = chainEvent(
      prepareEvent({ ...input, parameters: nest(MAX_PARAMETER_DEPTH) }),
      0,
      PREV,
    );
    releaseCanonicalText([event]);
    expect(computeEventHash(structuredClone(event))).toBe(event.hash);
    expect(serializeEvent(event)).toBe(`${canonicalTextOfRecord(event)}\n`);
    expect(() => prepareEvent({ ...input, parameters: nest(MAX_PARAMETER_DEPTH + 1) })).toThrow(
      InvalidParametersError,
    );
  });

  it('still hashes a stored record with deeper parameters, as an engine before 0.2 could write', () => {
    // 0.1 accepted parameters up to 999 levels: verifying its logs must not fail on them.
    const { hash: _hash, ...record } = { ...chained(), parameters: nest(999) };
    expect(computeEventHash(record)).toBe(sha256(canonicalTextOfRecord(record)));
  });

  it('refuses what cannot be hashed with InvalidParametersError (CanonicalJsonError is the same)', () => {
    expect(() => prepareEvent({ ...input, parameters: { a: [1, () => 1] } })).toThrow(
      expect.objectContaining({ path: '$.a[1]', action: 'x.y' }),
    );
    expect(() => prepareEvent({ ...input, parameters: { n: 1n } })).toThrow(CanonicalJsonError);
  });
});

/** canonicalJson of a record, written independently of the library (JSON.stringify sorts nothing). */
function canonicalTextOfRecord(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalTextOfRecord).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalTextOfRecord(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
