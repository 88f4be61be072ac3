import { createHash } from 'node:crypto';
import {
  chainEvent,
  computeEventHash,
  prepareEvent,
  serializeEvent,
  type AuditEventInput,
} from '../../../../lib/engine/audit/audit-event';
import { CanonicalJsonError } from '../../../../lib/engine/audit/audit.errors';
import { canonicalJson, canonicalMemberJson } from '../../../../lib/protocol/canonical-json';

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
  // Written by hand from PROTOCOL.md: keys sorted, ASCII only, no spaces.
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

describe('canonicalMemberJson', () => {
  it('writes the member as the enclosing object would', () => {
    const value = { z: [1, 2.5, null], a: { '\u{1F600}': -0 } };
    expect(canonicalMemberJson('parameters', value)).toBe(
      '{"a":{"\\ud83d\\ude00":0},"z":[1,2.5,null]}',
    );
  });

  it('names the path under the member and counts the enclosing object in the depth', () => {
    expect(() => canonicalMemberJson('parameters', { a: [1, () => 1] })).toThrow(
      expect.objectContaining({ path: '$.parameters.a[1]' }),
    );
    const nest = (levels: number) => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = { d: value };
      return value;
    };
    // MAX_CANONICAL_DEPTH (1000) containers at most, the enclosing object being one of them:
    // 1000 levels are fine at the root, not under a member.
    expect(canonicalJson(nest(1000))).toContain('{"d":1}');
    expect(() => canonicalMemberJson('p', nest(1000))).toThrow(CanonicalJsonError);
    expect(canonicalMemberJson('p', nest(999))).toBe(canonicalJson(nest(999)));
  });
});
