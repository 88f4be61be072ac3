import { isoTimestamp } from '../../../../lib/engine/audit/audit-timestamp';

describe('isoTimestamp', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('writes what Date writes, millisecond by millisecond across second, day and year ends', () => {
    const starts = [
      Date.UTC(2024, 0, 2, 3, 4, 5, 990),
      Date.UTC(2023, 11, 31, 23, 59, 59, 995),
      Date.UTC(1969, 11, 31, 23, 59, 59, 990), // negative times
      Date.UTC(9999, 11, 31, 23, 59, 59, 995), // into six-digit years
    ];
    for (const start of starts) {
      for (let ms = start; ms < start + 25; ms++) expect(isoTimestamp(ms)).toBe(iso(ms));
    }
  });

  it('writes what Date writes for times in any order, repeated or not', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const base = Date.UTC(2026, 11, 2, 12, 0, 0, 0);
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const spread = [1, 1000, 86_400_000, 3e12][i % 4];
      times.push(base + (next() % spread) - spread / 2);
    }
    times.push(base, base, base + 1, base - 1, -62198755200000, 8.64e15, -8.64e15);
    for (const ms of times) expect(isoTimestamp(ms)).toBe(iso(ms));
  });

  it('refuses a time Date cannot write, as Date does', () => {
    expect(() => isoTimestamp(8.64e15 + 1)).toThrow(RangeError);
    expect(() => isoTimestamp(Number.NaN)).toThrow(RangeError);
  });
});
