/**
 * Who acted or decided: an agent id, an approver id, a principal. These
 * strings end up in audit events, in `provenance audit tail`, in logs and in
 * reviewers' dashboards, so one rule holds for them wherever they enter
 * (the client's options, the reviewer, the server's bodies):
 *
 * - a string with something other than white space in it;
 * - at most MAX_IDENTITY_LENGTH (256) characters, counted as code points (as
 *   Python and pydantic count them): room for a UUID, an email address or a
 *   `team/service@host` name several times over, and small enough to print on
 *   one line of a log;
 * - no character that can forge or disguise a line of a log or a terminal
 *   (isForbiddenCharacter): the C0 controls U+0000–U+001F (newline, carriage
 *   return, escape: a fake line or an ANSI sequence), DEL U+007F, the C1
 *   controls U+0080–U+009F (U+009B is a one-byte CSI in some terminals), the
 *   line and paragraph separators U+2028/U+2029 (line breaks to JavaScript and
 *   many viewers), and the bidirectional embeddings, overrides and isolates
 *   U+202A–U+202E and U+2066–U+2069 (they reorder what is displayed, so
 *   `alice` can be made to read as someone else: "Trojan Source").
 *
 * Left allowed on purpose: other format characters such as ZWJ/ZWNJ
 * (U+200C/U+200D: emoji sequences, Persian and Indic names) and the bidi
 * marks U+200E/U+200F/U+061C (they only set the direction of neutral
 * characters and cannot move text across a line). Session ids have their own,
 * stricter rule (session-id.ts), and actions this rule plus their own
 * (action.ts).
 */

export const MAX_IDENTITY_LENGTH = 256;

/**
 * True for a character an identity (or an action) may not contain; see above
 * for why each. All of them are single UTF-16 code units.
 */
export function isForbiddenCharacter(unit: number): boolean {
  return (
    unit < 0x20 ||
    (unit >= 0x7f && unit <= 0x9f) ||
    unit === 0x2028 ||
    unit === 0x2029 ||
    (unit >= 0x202a && unit <= 0x202e) ||
    (unit >= 0x2066 && unit <= 0x2069)
  );
}

/** What is wrong with a would-be identity or action. */
export type TextProblem =
  | { kind: 'not-a-string' }
  | { kind: 'blank' }
  | { kind: 'too-long'; length: number; max: number }
  /** `index`: in code points, from 0. */
  | { kind: 'forbidden-character'; codePoint: number; index: number };

/** The rule in words, for "must be …" messages. */
export function textRule(max: number): string {
  return (
    `a non-empty string (not only white space) of at most ${max} characters, without control ` +
    'characters (U+0000–U+001F, U+007F–U+009F), line separators (U+2028, U+2029) or bidi ' +
    'controls (U+202A–U+202E, U+2066–U+2069)'
  );
}

export const IDENTITY_RULE = textRule(MAX_IDENTITY_LENGTH);

/** Null for a string that keeps the rule above with the limit `max`, else what breaks it (the first thing). */
export function textProblem(value: unknown, max: number): TextProblem | null {
  if (typeof value !== 'string') return { kind: 'not-a-string' };
  if (value.trim() === '') return { kind: 'blank' };
  // Code points are never more than code units, so most strings are measured at a glance.
  if (value.length > max) {
    const length = codePointLength(value);
    if (length > max) return { kind: 'too-long', length, max };
  }
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (isForbiddenCharacter(unit)) {
      return {
        kind: 'forbidden-character',
        codePoint: unit,
        index: codePointLength(value.slice(0, i)),
      };
    }
  }
  return null;
}

/** Null for a valid identity (agent id, approver id, principal), else what is wrong with it. */
export function identityProblem(value: unknown): TextProblem | null {
  return textProblem(value, MAX_IDENTITY_LENGTH);
}

export function isValidIdentity(value: unknown): value is string {
  return identityProblem(value) === null;
}

/**
 * The problem in words, never echoing the value's forbidden characters:
 * "is 300 characters long; the limit is 256",
 * "contains the control character U+000A at index 5".
 */
export function describeTextProblem(problem: TextProblem): string {
  switch (problem.kind) {
    case 'not-a-string':
      return 'is not a string';
    case 'blank':
      return 'is empty or only white space';
    case 'too-long':
      return `is ${problem.length} characters long; the limit is ${problem.max}`;
    case 'forbidden-character':
      return `contains ${characterKind(problem.codePoint)} ${unicodeName(problem.codePoint)} at index ${problem.index}`;
  }
}

/**
 * The string with every forbidden character written as `\u{…}`, so that it can
 * be shown in a message or a log line without acting on the terminal.
 */
export function escapeForbiddenCharacters(value: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (!isForbiddenCharacter(unit)) continue;
    out += `${value.slice(from, i)}\\u{${unit.toString(16)}}`;
    from = i + 1;
  }
  return from === 0 ? value : out + value.slice(from);
}

function characterKind(unit: number): string {
  if (unit === 0x2028 || unit === 0x2029) return 'the line separator';
  if (unit >= 0x202a) return 'the bidi control';
  return 'the control character';
}

function unicodeName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

function codePointLength(value: string): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    length++;
  }
  return length;
}
