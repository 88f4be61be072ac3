/*
 * What the CLI prints from an audit file was written by agents (an action, a
 * session id, a reason) or by whoever edited the file. Printed raw, an ESC
 * sequence moves the cursor or erases the line and a CR or LF starts a fake
 * line; bidi controls reorder what the reader sees. Every such character is
 * printed as an escape instead: C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F),
 * U+2028/U+2029, and the bidi controls (U+061C, U+200E, U+200F,
 * U+202A-U+202E, U+2066-U+2069).
 */

const UNSAFE =
  '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_CHARS = new RegExp(`[${UNSAFE}]`, 'gu');
const UNSAFE_OR_BACKSLASH = new RegExp(`[\\\\${UNSAFE}]`, 'gu');

const SHORT: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

function escape(ch: string): string {
  return SHORT[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A field printed bare (`session=…`): the unsafe characters and the backslash escaped. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_OR_BACKSLASH, escape);
}

/** A field printed in quotes (`reason="…"`): as JSON.stringify, and the rest of the unsafe set escaped too. */
export function quotedTerminalSafe(text: string): string {
  return `"${terminalSafe(text).replace(/"/g, '\\"')}"`;
}

/** A whole line, as a last guard: any unsafe character left is escaped (a backslash stays). */
export function safeLine(line: string): string {
  return line.replace(UNSAFE_CHARS, escape);
}
