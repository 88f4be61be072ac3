/**
 * Returns the object it is given from its constructor, so that a subclass
 * can stamp a private field on an object it did not create (CanonicalStamp,
 * DecidedMark): a field only that class can add or read, invisible to
 * Object.keys, JSON and structuredClone, and no WeakMap ephemeron for the
 * garbage collector to trace.
 */
export class Passthrough {
  constructor(target: object) {
    return target;
  }
}
