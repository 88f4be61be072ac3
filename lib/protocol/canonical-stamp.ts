import { flatString } from './flat-string';
import { Passthrough } from './passthrough';

/**
 * The canonical text of each normalised root this module made: what
 * normalizeParameters returned, and parseCanonical's copies (the audit log's
 * event parameters, while they are being stored), stamped on the value as a
 * private field. Only this class can add or read the field, and only this
 * module stamps, only fresh objects it built itself: a caller cannot pass off
 * a look-alike (a plain or null-prototype object of the same shape has no
 * field and is walked), and the field is invisible to Object.keys, JSON and
 * structuredClone. (A private field rather than a WeakMap: no ephemeron
 * table for the garbage collector to trace on every call, and forgetting is a
 * write, not a delete.) The text is trusted for as long as the value is not
 * changed: normalised values are read-only by contract, and nothing in lib
 * writes to one.
 */
export class CanonicalStamp extends Passthrough {
  #text: string | undefined;

  private constructor(target: object, text: string) {
    super(target);
    this.#text = text;
  }

  static stamp(target: object, text: string): void {
    if (#text in target) (target as CanonicalStamp).#text = text;
    else new CanonicalStamp(target, text);
  }

  static textOf(value: object): string | undefined {
    return #text in value ? (value as CanonicalStamp).#text : undefined;
  }

  static forget(value: object): void {
    if (#text in value) (value as CanonicalStamp).#text = undefined;
  }

  static flatten(value: object): void {
    if (!(#text in value)) return;
    const text = (value as CanonicalStamp).#text;
    if (text !== undefined) (value as CanonicalStamp).#text = flatString(text);
  }
}

/** The canonical text of a value this module normalised (see CanonicalStamp), or undefined. */
export function canonicalTextOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? CanonicalStamp.textOf(value) : undefined;
}

/**
 * A fresh copy of the value a canonical text stands for (JSON.parse of it,
 * whose own canonical text is that text again), remembered with the text like
 * a normalised value. The audit log keeps such a copy in each event.
 */
export function parseCanonical(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (typeof value === 'object' && value !== null) CanonicalStamp.stamp(value, text);
  return value;
}

/** Lets go of a value's remembered text (the audit log, once the event is stored). */
export function forgetCanonicalText(value: unknown): void {
  if (typeof value === 'object' && value !== null) CanonicalStamp.forget(value);
}

/**
 * Keeps a value's remembered text as one flat string (flatString): for the
 * parameters of a call held for a human, kept as long as the human takes. Not
 * on every call: it costs a copy and a scan.
 */
export function flattenCanonicalText(value: unknown): void {
  if (typeof value === 'object' && value !== null) CanonicalStamp.flatten(value);
}

/**
 * The canonical text of a call's normalised parameters: `null` for none,
 * otherwise the text remembered with the value; undefined when the value was
 * not normalised here.
 */
export function parametersTextOf(parameters: Record<string, unknown> | null): string | undefined {
  return parameters === null ? 'null' : canonicalTextOf(parameters);
}
