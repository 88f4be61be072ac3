/**
 * The three outcomes of a policy decision. A const object rather than a TS
 * enum so that `Decision.ALLOW` works like the Python SDK's and the values are
 * the exact wire words.
 */
export const Decision = {
  ALLOW: 'ALLOW',
  BLOCK: 'BLOCK',
  ESCALATE: 'ESCALATE',
} as const;

export type Decision = (typeof Decision)[keyof typeof Decision];

const WORDS: ReadonlySet<string> = new Set(Object.values(Decision));

/** True only for one of the three exact, upper-case wire words. */
export function isDecision(value: unknown): value is Decision {
  return typeof value === 'string' && WORDS.has(value);
}
