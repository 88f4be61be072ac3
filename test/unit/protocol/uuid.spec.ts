import { newUuid } from '../../../lib/protocol/uuid';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newUuid', () => {
  // Several refills of the random buffer (256 ids each).
  const ids = Array.from({ length: 5000 }, () => newUuid());

  it('makes version 4 UUIDs in the lowercase 8-4-4-4-12 form', () => {
    for (const id of ids) expect(id).toMatch(V4);
  });

  it('never repeats, across refills of its random bytes', () => {
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws every hex digit at every random position (no byte written twice or left out)', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>());
    for (const id of ids) for (let i = 0; i < 36; i++) seen[i].add(id[i]);
    const fixed: Record<number, string[]> = {
      8: ['-'],
      13: ['-'],
      14: ['4'],
      18: ['-'],
      19: ['8', '9', 'a', 'b'],
      23: ['-'],
    };
    for (let i = 0; i < 36; i++) {
      expect([i, [...seen[i]].sort()]).toEqual([i, (fixed[i] ?? [...'0123456789abcdef']).sort()]);
    }
  });
});
