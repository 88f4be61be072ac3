/*
 * The ISO 8601 text of an audit event's time. `new Date(ms).toISOString()`
 * costs about as much as a SHA-256 of the event on a busy machine, and a log
 * appending thousands of events a second writes the same second (often the
 * same millisecond) over and over: the last text is kept and, within its
 * second, only the milliseconds are rewritten.
 */

let lastMs = Number.NaN;
let lastText = '';
/** lastText without its `.sssZ`, and the first millisecond of its second. */
let secondPrefix = '';
let secondStart = Number.NaN;

/** `new Date(ms).toISOString()` for a finite millisecond time, e.g. `2024-01-02T03:04:05.678Z`. */
export function isoTimestamp(ms: number): string {
  if (ms === lastMs) return lastText;
  const offset = ms - secondStart;
  if (offset >= 0 && offset < 1000 && Number.isInteger(offset)) {
    lastText = `${secondPrefix}.${MILLIS[offset]}Z`;
  } else {
    lastText = new Date(ms).toISOString();
    // `.sssZ` ends every ISO string Date writes, whatever the year's width.
    secondPrefix = lastText.slice(0, -5);
    secondStart = ms - (((ms % 1000) + 1000) % 1000);
  }
  lastMs = ms;
  return lastText;
}

/** '000' to '999'. */
const MILLIS: readonly string[] = Array.from({ length: 1000 }, (_, i) =>
  String(i).padStart(3, '0'),
);
