/**
 * One option in a table of options: what it does, where else it can be set,
 * what values it takes and what it is when unset. The resolver is a loop
 * over such a table (resolve-option-table.ts), so adding an option is adding
 * an entry.
 */

/** `null` when the value is acceptable, else the whole error message (naming `option`). */
export type OptionCheck = (value: unknown, option: string) => string | null;

interface SpecBase {
  /** What the option does, its default included: the same text as its doc comment on the options interface. */
  doc: string;
  /** The environment variable read (trimmed; blank is unset) when the option is not set. */
  env?: string;
}

/** An option with a default: a value, or one made afresh for each resolution (a new session id). */
export type ValueSpec<T> = SpecBase & { check: OptionCheck } & (
    { default: T } | { makeDefault: () => T }
  );

/** An option without a default: unset or blank is an error. */
export interface RequiredSpec extends SpecBase {
  check: OptionCheck;
  /** The message when it is missing: names the option and how to set it. */
  required: () => string;
}

/** An option that is an object of options of its own (`audit: { store, path, durable }`). */
export interface GroupSpec extends SpecBase {
  /** Checks the object itself (is it one); its members are checked by `group`. */
  check: OptionCheck;
  group: OptionTable;
}

/** Still accepted, never read: setting it warns once per process with this message. */
export interface DeprecatedSpec extends SpecBase {
  deprecated: string;
}

export type OptionSpec<T = unknown> = ValueSpec<T> | RequiredSpec | GroupSpec | DeprecatedSpec;

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/**
 * The table of an options interface `In` resolving to `Out`: one entry per
 * key of `In`, no other. A key of both has a spec whose default is of the
 * resolved type; a key of `In` only is deprecated.
 */
export type OptionTableOf<In, Out> = {
  readonly [K in keyof Required<In>]: K extends keyof Out
    ? ValueSpec<Out[K]> | RequiredSpec | GroupSpec
    : DeprecatedSpec;
};

/** Where a resolved value came from: the error hints differ. */
export type OptionSource = 'option' | 'env' | 'default';
