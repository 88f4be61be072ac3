import type { ParameterSpec } from './parameter-names';

/** How one method's arguments become audit parameters; built once per method. */
export interface ArgumentNaming {
  /** Key of each declared position (null: left out); `rest` collects the remaining arguments. */
  readonly keys: ReadonlyArray<string | null>;
  readonly restKey: string | null;
  /** Where the rest parameter sits, or -1 when there is none. */
  readonly restIndex: number;
}

/**
 * The naming rules, in one place:
 * - an argument is keyed by its parameter name (`amount`);
 * - a name starting with `_` is left out (the Python SDK's rule), so `_req` never reaches the audit log;
 * - a destructured parameter (`{ a, b }`, `[x, y]`) has no single name: it is keyed `arg<i>`,
 *   with `i` its position, and holds the whole argument;
 * - `...rest` is keyed by its name and holds the array of the remaining arguments (maybe `[]`);
 * - an argument beyond the declared parameters is keyed `arg<i>` (the body can still read it);
 * - positions listed in `skip` are left out (a Nest `@Req()`, `@Res()` or `@Next()` argument);
 * - a synthesized `arg<i>` never overwrites a declared name: it becomes `$arg<i>` instead.
 */
export function namingFor(
  specs: readonly ParameterSpec[] | null,
  skip: ReadonlySet<number> = new Set(),
): ArgumentNaming {
  const list = specs ?? [];
  const declared = new Set(list.map((s) => s.name).filter((n): n is string => n !== null));
  const keys: Array<string | null> = [];
  let restKey: string | null = null;
  let restIndex = -1;
  list.forEach((spec, index) => {
    const key = skip.has(index) ? null : keyOf(spec.name, index, declared);
    if (spec.rest) {
      restIndex = index;
      restKey = key;
    } else {
      keys.push(key);
    }
  });
  return { keys, restKey, restIndex };
}

function keyOf(name: string | null, index: number, declared: ReadonlySet<string>): string | null {
  if (name === null) return syntheticKey(index, declared);
  return name.startsWith('_') ? null : name;
}

function syntheticKey(index: number, declared: ReadonlySet<string>): string {
  let key = `arg${index}`;
  while (declared.has(key)) key = `$${key}`;
  return key;
}

/**
 * The audit parameters of one call. `undefined` arguments are left out (as
 * JSON would); everything else is passed on as is, for the gateway's
 * normaliser to accept or refuse before anything is sent.
 */
export function auditParameters(
  naming: ArgumentNaming,
  args: readonly unknown[],
  skip: ReadonlySet<number> = new Set(),
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const declaredCount = naming.restIndex === -1 ? naming.keys.length : naming.restIndex;
  const declaredNames = new Set(naming.keys.filter((k): k is string => k !== null));
  if (naming.restKey !== null) declaredNames.add(naming.restKey);
  const put = (key: string | null, value: unknown): void => {
    if (key !== null && value !== undefined) out[key] = value;
  };
  for (let i = 0; i < Math.min(declaredCount, args.length); i++) put(naming.keys[i], args[i]);
  if (naming.restIndex !== -1) {
    // The body sees an empty array when nothing is left, and so does the audit.
    put(naming.restKey, args.slice(declaredCount));
    return out;
  }
  for (let i = declaredCount; i < args.length; i++) {
    if (!skip.has(i)) put(syntheticKey(i, declaredNames), args[i]);
  }
  return out;
}
